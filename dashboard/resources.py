"""What every page and the live route share: the data directory, one Store per process, and
small formatting helpers. No Streamlit here, so the SSE route and unit tests can use it too.

The Store is opened once per process and data directory and shared by all threads: page scripts
(one thread per browser session) and the SSE route's worker threads. A Store serialises its own
access with a lock, so sharing is safe (see ``firmware_bridge.store``).
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calibration.defaults import REGION_DEFAULTS_KGF_CM2
from calibration.tips import tip_in_use
from firmware_bridge.errors import StoreDamagedError, UsageError
from firmware_bridge.store import Store, default_data_dir
from firmware_bridge.store import repair as store_repair
from firmware_bridge.store.background_check import BackgroundCheck
from firmware_bridge.store.salvage import SalvageReport

log = logging.getLogger(__name__)

#: A live row older than this is not trusted: the bridge may have died (seconds).
STALE_AFTER_S = 0.5

#: Body regions offered in the pickers, in the shipped defaults' order (head to foot).
REGIONS: tuple[str, ...] = tuple(REGION_DEFAULTS_KGF_CM2)
SIDES: tuple[str, ...] = ("both / centre", "left", "right")

#: Seconds after the dashboard opens a store before every sample chunk of it is checked in the
#: background (opening a large store leaves them to the reads; see firmware_bridge.store).
BACKGROUND_CHECK_DELAY_S = 300.0

_lock = threading.Lock()
_stores: dict[Path, Store] = {}
_checks: dict[Path, BackgroundCheck] = {}
#: Damage the background check found, per data directory: every page shows it from then on.
_found: dict[Path, StoreDamagedError] = {}


def data_dir() -> Path:
    """The data directory: ``PRESSUREGUARD_HOME`` (set by the launcher), else the platform's."""
    return default_data_dir()


def _resolved(directory: Path | None) -> Path:
    return Path(directory if directory is not None else data_dir()).expanduser().resolve()


def get_store(directory: Path | None = None) -> Store:
    """The process's Store for ``directory`` (default :func:`data_dir`), opened on first use.

    Raises:
        StoreDamagedError: the store is damaged (kept aside; the user chooses what to do).
        StoreError: the store cannot be opened.
    """
    path = _resolved(directory)
    with _lock:
        found = _found.get(path)
        if found is not None:
            raise found
        store = _stores.get(path)
        if store is None or store.closed:
            store = Store.open(path)
            _stores[path] = store
            log.info("dashboard reads the store in %s", path)
            _start_check(path, store.path)
        return store


def _start_check(path: Path, db_file: Path) -> None:
    """Check every sample chunk of the store once, in the background (under ``_lock``)."""
    if path in _checks:
        return

    def found(problem: str) -> None:
        _found[path] = StoreDamagedError(
            f"store damaged: {db_file} {problem}; found while PressureGuard had it open, so it"
            " was left in place: save what can be read with the button below, or close"
            " PressureGuard and run `pressureguard store repair`",
            path=db_file,
            problem=problem,
        )

    check = BackgroundCheck(db_file, found, delay_s=BACKGROUND_CHECK_DELAY_S)
    _checks[path] = check
    check.start()


def _forget_store(path: Path) -> None:
    """Close this process's Store of ``path`` (before its file is replaced)."""
    with _lock:
        store = _stores.pop(path, None)
        check = _checks.pop(path, None)
        _found.pop(path, None)
    if check is not None:
        check.stop()
    if store is not None:
        try:
            store.close()
        except Exception:  # the file is being dealt with; closing is best effort
            log.debug("closing %r failed", store, exc_info=True)


def repair_store(directory: Path | None = None) -> SalvageReport | None:
    """Save what can be read from the damaged store into a new one (the user pressed the
    button); None when the store turned out intact.

    Raises:
        StoreError: the damaged file is in use elsewhere or gone, or the new store could not
            be written.
    """
    path = _resolved(directory)
    with _lock:
        found = _found.get(path)
    _forget_store(path)
    try:
        return store_repair.repair_store(path)
    except StoreDamagedError as exc:
        if exc.kept_at is None:  # left in place (in use): the pages keep saying so
            with _lock:
                _found[path] = found or exc
        raise


def reset_store(directory: Path | None = None) -> Path | None:
    """Start an empty store in place of the damaged one (the user confirmed); returns where
    the damaged file stays.

    Raises:
        StoreError: the store is not known to be damaged.
    """
    path = _resolved(directory)
    _forget_store(path)
    return store_repair.reset_store(path)


def close_stores() -> None:
    """Close every cached Store (tests; a clean shutdown)."""
    with _lock:
        stores = list(_stores.values())
        checks = list(_checks.values())
        _stores.clear()
        _checks.clear()
        _found.clear()
    for check in checks:
        check.stop()
    for store in stores:
        try:
            store.close()
        except Exception:  # closing is best effort at shutdown
            log.debug("closing %r failed", store, exc_info=True)


# -- live row -----------------------------------------------------------------------------------


def fresh_state(live: dict[str, Any] | None) -> dict[str, Any] | None:
    """The live row's state when the row is fresh (a bridge is running), else None."""
    if not live:
        return None
    age = live.get("age_s")
    if not isinstance(age, int | float) or age > STALE_AFTER_S:
        return None
    state = live.get("state")
    return state if isinstance(state, dict) else None


# -- formatting -----------------------------------------------------------------------------------


def parse_iso(text: str) -> datetime:
    """A stored ISO-8601 timestamp (naive ones are UTC, as the store writes them)."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def region_label(region: str | None) -> str:
    """``upper-trapezius:left`` → ``Upper trapezius (left)``; None → ``—``."""
    if not region:
        return "—"
    slug, _, side = region.partition(":")
    text = slug.replace("-", " ").capitalize()
    return f"{text} ({side})" if side else text


def region_value(slug: str | None, side: str) -> str | None:
    """The region string the bridge takes: a slug with an optional ``:left``/``:right``."""
    if not slug:
        return None
    return f"{slug}:{side}" if side in ("left", "right") else slug


def local_time(text: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp in the computer's local time; ``—`` when missing."""
    if not text:
        return "—"
    try:
        return parse_iso(text).astimezone().strftime(fmt)
    except ValueError:
        return text


def local_datetime(text: str | None) -> datetime | None:
    """A stored UTC timestamp as a naive local datetime (for tables), or None."""
    if not text:
        return None
    try:
        return parse_iso(text).astimezone().replace(tzinfo=None)
    except ValueError:
        return None


def duration(seconds: float | None) -> str:
    """``75.2`` → ``1:15``; ``3700`` → ``1:01:40``; None → ``—``."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    total = round(max(seconds, 0.0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tip_words(tip: str | None, pressure_area_cm2: float | None) -> str:
    """A session's tip in words: ``cane knob (Thera Cane type)``, ``the tool's own tip (1 cm²)``,
    or ``tip not known``.

    Args:
        tip: the session's tip key, or None.
        pressure_area_cm2: the session's ``tip_area_cm2`` (the tool's own area when no tip key).
    """
    try:
        found = tip_in_use(tip, pressure_area_cm2)
    except UsageError:  # a tip this version does not know (an import from a newer one)
        return f"tip {tip}"
    return found.label if found is not None else "tip not known"


def battery(mv: int | None) -> str:
    """``3900`` → ``3.90 V``; 0/None (unknown) → ``—``."""
    return f"{mv / 1000:.2f} V" if mv else "—"


def rate(measured: float | None, nominal: float | None) -> str:
    """``79.8 of 80 Hz``, or whichever is known."""
    if measured is None and nominal is None:
        return "—"
    if nominal is None:
        return f"{measured:.1f} Hz"
    if measured is None:
        return f"— of {nominal:g} Hz"
    return f"{measured:.1f} of {nominal:g} Hz"
