"""Commands from the dashboard, read from the store and carried out by the bridge."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from calibration.guided import MeasurementSettings
from calibration.ppt import REST_S
from firmware_bridge.errors import PressureGuardError, UsageError
from firmware_bridge.store import Store
from firmware_bridge.units import parse_region

log = logging.getLogger(__name__)


class Commandable(Protocol):
    """What a command may ask of the bridge."""

    def start_session(
        self,
        profile: str,
        region: str | None,
        pain_before: int | None = None,
        limit_n: float | None = None,
        tip: str | None = None,
    ) -> int: ...

    def stop_session(
        self, pain_after: int | None = None, note: str | None = None
    ) -> int | None: ...

    def set_limit(self, limit_n: float, basis: str) -> None: ...

    def switch_source(self, source: str) -> None: ...

    def ppt_start(self, settings: MeasurementSettings) -> None: ...

    def ppt_mark(self, t: float | None = None) -> None: ...

    def ppt_release(self) -> None: ...

    def ppt_cancel(self) -> None: ...

    def haptic_test(self) -> None: ...

    def tare(self) -> None: ...

    def set_lsl(self, on: bool) -> None: ...

    def reload_calibration(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def default_profile(self) -> str: ...

    @property
    def one_session(self) -> bool: ...


def poll_commands(store: Store, bridge: Commandable) -> int | None:
    """Carry out every pending command and answer it in the store.

    Returns:
        The id of a session started or stopped, if any.
    """
    touched: int | None = None
    for command in store.take_commands():
        kind, args = command["kind"], command.get("args")
        args = {} if args is None else args
        result: dict[str, Any] = {"ok": True}
        try:
            if not isinstance(kind, str) or not isinstance(args, dict):
                raise UsageError(f"malformed command {kind!r}: its arguments are not an object")
            touched = obey(bridge, kind, args) or touched
            if touched is not None:
                result["session_id"] = touched
        except (PressureGuardError, ValueError, TypeError, KeyError, ArithmeticError) as exc:
            result = {"ok": False, "error": _one_line(str(exc))}
        except Exception as exc:  # a command must never end the bridge: it keeps judging
            log.exception("command %r failed", kind)
            result = {"ok": False, "error": _one_line(f"could not carry out {kind!r}: {exc}")}
        store.finish_command(command["id"], result)
    return touched


def _one_line(text: str) -> str:
    """An answer the dashboard shows on one line, whatever the command carried."""
    return " ".join(text.split()) or "failed"


def obey(bridge: Commandable, kind: str, args: dict[str, Any]) -> int | None:
    """Carry out one command.

    Raises:
        ValueError: unknown command or bad arguments (answered, never fatal).
    """
    if kind == "start_session":
        region = args.get("region")
        limit = args.get("limit_n")
        tip = args.get("tip")
        return bridge.start_session(
            str(args.get("profile") or bridge.default_profile),
            str(parse_region(str(region))) if region else None,
            pain(args.get("pain_before")),
            float(limit) if limit else None,
            tip=None if tip is None else str(tip),
        )
    if kind == "stop_session":
        session_id = bridge.stop_session(pain(args.get("pain_after")), args.get("note"))
        if bridge.one_session:
            bridge.stop()  # `record` is one session
        return session_id
    if kind == "limit":
        limit = float(args["limit_n"])
        if not limit > 0:
            raise ValueError("the comfort limit must be more than zero")
        bridge.set_limit(limit, str(args.get("basis", "set from the dashboard")))
    elif kind == "source":
        bridge.switch_source(str(args["source"]))
    elif kind.startswith("ppt_"):
        _measurement(bridge, kind, args)
    elif kind == "calibration_reload":
        bridge.reload_calibration()
    elif kind == "haptic_test":
        bridge.haptic_test()
    elif kind == "tare":
        bridge.tare()
    elif kind == "lsl":
        bridge.set_lsl(bool(args.get("on")))
    elif kind in ("stop", "shutdown"):
        bridge.stop()
    else:
        raise ValueError(f"unsupported command {kind!r}")
    return None


def _measurement(bridge: Commandable, kind: str, args: dict[str, Any]) -> None:
    """The guided threshold measurement: start, mark, end a trial, cancel."""
    if kind == "ppt_start":
        area = args.get("tip_area_cm2")
        settings = MeasurementSettings(
            str(args.get("profile") or bridge.default_profile),
            str(parse_region(str(args["region"]))),
            tip=str(args["tip"]) if args.get("tip") else None,
            tip_area_cm2=float(area) if area else None,
            fraction=float(args.get("fraction") or 1.0),
            rest_s=float(args.get("rest_s") or REST_S),
        )
        bridge.ppt_start(settings)
    elif kind == "ppt_mark":
        t = args.get("t")
        bridge.ppt_mark(float(t) if t is not None else None)
    elif kind == "ppt_release":
        bridge.ppt_release()
    elif kind == "ppt_cancel":
        bridge.ppt_cancel()
    else:
        raise ValueError(f"unsupported command {kind!r}")


def pain(value: Any) -> int | None:
    """A 0–10 pain rating from a command, or None.

    Raises:
        ValueError: outside 0–10 or not a number.
    """
    if value is None or value == "":
        return None
    rating = int(value)
    if not 0 <= rating <= 10:
        raise ValueError("pain ratings go from 0 to 10")
    return rating
