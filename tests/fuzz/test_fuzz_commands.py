"""Fuzzing the dashboard → bridge command path through the store.

Commands are rows in the shared SQLite file: the dashboard posts them with ``Store.post_command``
and the bridge carries them out in ``poll_commands``. The file can be written by anything, so the
fuzzer also writes rows of its own: any kind, arguments that are not an object, not JSON, nested
past any parser's depth, NaN, huge numbers. Whatever a row holds, the bridge must answer it (a
result with ``ok`` and, when refused, a one-line ``error``) and keep serving: no exception may
leave ``poll_commands`` (in the bridge's loop it would end the bridge), and the bridge's limit and
live state stay sane after every case.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.commands import poll_commands
from firmware_bridge.errors import SourceOpenError, UsageError
from firmware_bridge.store import Store
from firmware_bridge.store._base import to_json, utc_iso
from tests.fuzz.conftest import Tally, fuzz_settings, one_line

KINDS = ["start_session", "stop_session", "limit", "source", "ppt_start", "ppt_mark",
         "ppt_release", "ppt_cancel", "ppt_bogus", "calibration_reload", "haptic_test", "tare",
         "stop", "shutdown", "nope", "", " ", "LIMIT", "start_session\x00"]  # fmt: skip
ARG_KEYS = ["profile", "region", "pain_before", "pain_after", "limit_n", "tip", "note", "basis",
            "source", "tip_area_cm2", "fraction", "rest_s", "t"]  # fmt: skip
#: Sources a command may switch to in this test (nothing here opens a device or a socket).
SAFE_SOURCES = ("sim://?speed=0", "loop://", "foo://bar", "sim://?rate=0", "")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63, -1, 0, 11]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["upper-trapezius", "upper-trapezius:left", "knob", "disc-1cm2", "10",
                     "1e999", "nan", "-5", "default", "'; DROP TABLE sessions; --"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _raw_json(value: Any) -> str:
    """JSON as any writer might put it in the file: NaN and Infinity included."""
    return json.dumps(value, allow_nan=True)


@st.composite
def command_rows(draw: st.DrawFn) -> tuple[str, Any, str | None]:
    """(kind, args, raw args text or None to post through the store's own API)."""
    kind = draw(st.sampled_from(KINDS) | st.text(max_size=10))
    args: Any = draw(st.dictionaries(st.sampled_from(ARG_KEYS), values, max_size=5))
    how = draw(st.integers(0, 9))
    if how <= 4:
        return kind, args, None  # Store.post_command, as the dashboard does
    if how <= 6:
        return kind, args, _raw_json(args)
    if how == 7:
        return kind, None, _raw_json(draw(values))  # arguments that are not an object
    if how == 8:
        depth = draw(st.sampled_from([10, 500, 5000]))
        return kind, None, "[" * depth + "]" * depth
    return kind, None, draw(st.text(max_size=20))  # not JSON at all


class Watched(Bridge):
    """The real bridge, kept from opening anything but harmless sources."""

    def switch_source(self, source: str) -> None:
        if source not in SAFE_SOURCES:
            raise SourceOpenError(f"not opened in this test: {source!r}")
        super().switch_source(source)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Bridge]]:
    with serving(tmp_path_factory.mktemp("commands")) as pair:
        yield pair


@contextmanager
def serving(data: Path) -> Iterator[tuple[Store, Bridge]]:
    """A store in ``data`` and a real bridge (not recording) reading its commands."""
    with Store.open(data) as store:
        bridge = Watched(store, RecordOptions(source="sim://?speed=0", record_session=False))
        try:
            yield store, bridge
        finally:
            if bridge.session_id is not None:
                bridge.stop_session()
            if bridge._source is not None:
                bridge._source.close()


def _post(store: Store, kind: str, args: Any, raw: str | None) -> int | None:
    if raw is None:
        try:
            return store.post_command(kind, args)
        except UsageError:
            return None  # the store refuses an empty kind: nothing was queued
    with store._write("insert a hostile command") as db:
        cur = db.execute(
            "INSERT INTO commands (created_at, kind, args) VALUES (?, ?, ?)",
            (utc_iso(), kind, raw),
        )
    return int(cur.lastrowid or 0)


@given(rows=st.lists(command_rows(), min_size=1, max_size=4))
@fuzz_settings(300)
def test_hostile_commands(
    rows: list[tuple[str, Any, str | None]], served: tuple[Store, Bridge], tally: Tally
) -> None:
    tally()
    commands_case(served, rows)


def commands_case(served: tuple[Store, Bridge], rows: list[tuple[str, Any, str | None]]) -> None:
    """Rows posted, then polled: each answered, and the bridge still sane."""
    store, bridge = served
    ids = [i for i in (_post(store, *row) for row in rows) if i is not None]
    poll_commands(store, bridge)  # must not raise, whatever the rows hold
    for command_id in ids:
        result = store.get_command(command_id)["result"]
        assert isinstance(result, dict) and isinstance(result.get("ok"), bool), result
        if not result["ok"]:
            assert one_line(str(result.get("error", ""))), result
    assert math.isfinite(bridge.limit_n) and bridge.limit_n > 0
    bridge._flush()  # the live state the dashboard reads is still written
    assert store.get_live() is not None
    bridge._stop = False  # a "stop" command asks the loop to end; this test has no loop


def test_the_bridge_still_obeys_after_hostile_commands(served: tuple[Store, Bridge]) -> None:
    """After whatever the fuzzer sent, an ordinary command is carried out."""
    store, bridge = served
    command_id = store.post_command("limit", {"limit_n": 12.5, "basis": "after the fuzzing"})
    poll_commands(store, bridge)
    assert store.get_command(command_id)["result"] == {"ok": True}
    assert bridge.limit_n == 12.5
    assert to_json(bridge.live.as_dict())
