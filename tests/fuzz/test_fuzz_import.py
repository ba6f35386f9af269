"""Fuzzing CSV and JSON import through its public function, ``exchange.import_file``.

Files range from real exports with a few bytes changed to hand-made CSV and JSON with every kind of
wrong value (non-finite, negative, huge, out of order, duplicate times, missing or extra columns,
binary junk). Each import either adds one whole session (its samples all readable) or is refused
with one of PressureGuard's errors in one line, and then nothing of it is in the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.errors import PressureGuardError
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import export_csv, export_json, import_file
from firmware_bridge.zones import JudgedSamples, Zone
from tests.fuzz.conftest import Tally, fuzz_settings, one_line

COLUMNS = ["t_s", "force_n", "filtered_n", "zone", "raw", "pressure_kpa", "bogus", "", "t_s"]
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "nan", "inf", "-inf", "1e999", "-1", "0", "relaxed", "danger", "x",
                     '"1"', '"', "1,2", " 3 ", "\x00", "é", "0x1F", "1e-400"]),
    st.text(max_size=6),
)  # fmt: skip


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=7))
    if draw(st.booleans()):
        header = ["t_s", "force_n", *header]
    rows = []
    t = 0.0
    for _ in range(draw(st.integers(0, 40))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        cells = [draw(CELLS) for _ in range(max(width, 0))]
        if cells and draw(st.booleans()):
            t += draw(st.sampled_from([0.0125, 0.0125, 0.0, -1.0, 1e9]))
            cells[0] = repr(t)  # mostly ordered times, with repeats and steps back
        rows.append(",".join(cells))
    lead = draw(st.sampled_from(["", "\ufeff", "# comment\n", "\n\n"]))
    end = draw(st.sampled_from(["\n", "\r\n", "", "\n\n"]))
    text = lead + ",".join(header) + "\n" + "\n".join(rows) + end
    return text.encode("utf-8", "surrogatepass")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


JSON_FIELDS = [["samples", "t_s"], ["samples", "force_n"], ["samples"], ["started_at"],
               ["events"], ["limit_n"], ["profile"], ["samples", "zone"], ["region"],
               ["tip_area_cm2"], ["id"]]  # fmt: skip


@st.composite
def json_texts(draw: st.DrawFn, good: dict[str, Any]) -> bytes:
    """A real export with fields replaced, removed or added; or any JSON at all."""
    if draw(st.integers(0, 3)) == 0:
        return json.dumps(draw(json_values), allow_nan=True).encode()
    doc = json.loads(json.dumps(good))
    for _ in range(draw(st.integers(1, 4))):
        where = doc
        path = draw(st.sampled_from(JSON_FIELDS))
        for key in path[:-1]:
            where = where.setdefault(key, {}) if isinstance(where, dict) else {}
        if not isinstance(where, dict):
            continue
        if draw(st.integers(0, 4)) == 0:
            where.pop(path[-1], None)
        else:
            where[path[-1]] = draw(json_values)
    return json.dumps(doc, allow_nan=True).encode()


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Bytes replaced, dropped or inserted at a few places."""
    out = bytearray(data)
    for where, drop, insert in edits:
        at = where % (len(out) + 1)
        out[at : at + drop] = insert
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 8), st.binary(max_size=4)),
                 max_size=4)  # fmt: skip


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Store, Path, dict[str, bytes]]]:
    """A store with one real session, and that session exported both ways."""
    with import_store(tmp_path_factory.mktemp("import")) as opened:
        yield opened


@contextmanager
def import_store(root: Path) -> Iterator[tuple[Store, Path, dict[str, bytes]]]:
    """A store in ``root`` with one real session, and that session exported both ways."""
    with Store.open(root / "data") as store:
        sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=15.0)
        n = 50
        t = np.arange(n) * 0.0125
        force = np.linspace(0, 20, n)
        store.append_samples(
            sid, JudgedSamples(t, force * 1000, force, force, np.zeros(n, np.int8))
        )
        store.end_session(sid)
        exports = {}
        for fmt, writer in (("csv", export_csv), ("json", export_json)):
            path = root / f"good.{fmt}"
            writer(store, sid, path)
            exports[fmt] = path.read_bytes()
        yield store, root, exports


@given(
    kind=st.sampled_from(["csv", "json", "csv-edit", "json-edit", "junk"]),
    made=st.data(),
    suffix=st.sampled_from([".csv", ".json", ".CSV", ".txt"]),
)
@fuzz_settings(200)
def test_import_any_file(
    kind: str,
    made: st.DataObject,
    suffix: str,
    stores: tuple[Store, Path, dict[str, bytes]],
    tally: Tally,
) -> None:
    tally()
    _store, _root, exports = stores
    if kind == "csv":
        data = made.draw(csv_texts())
    elif kind == "json":
        data = made.draw(json_texts(json.loads(exports["json"])))
    elif kind.endswith("-edit"):
        data = mutate(exports[kind[:-5]], made.draw(edits))
    else:
        data = made.draw(st.binary(max_size=2000))
    import_case(stores, data, suffix)


def import_case(stores: tuple[Store, Path, dict[str, bytes]], data: bytes, suffix: str) -> None:
    """One file imported: a whole readable session (deleted again), or one line and nothing."""
    store, root, _exports = stores
    path = root / f"case{suffix}"
    path.write_bytes(data)
    before = {s["id"] for s in store.list_sessions(limit=None)}
    try:
        sid = import_file(store, path)
    except PressureGuardError as exc:
        assert one_line(str(exc)), repr(str(exc))
        after = {s["id"] for s in store.list_sessions(limit=None)}
        assert after == before, "a refused import left a session behind"
        return
    summary = store.session_summary(sid)
    samples = store.load_samples(sid)
    assert summary["n_samples"] == len(samples.t_s)
    assert np.isfinite(samples.t_s).all() and (np.diff(samples.t_s) >= 0).all()
    known = np.isfinite(samples.force_n)
    safe_ish = (samples.zone >= int(Zone.RELAXED)) & (samples.zone <= int(Zone.OVER))
    assert not (~known & safe_ish).any(), "judged without a force"
    store.delete_session(sid)
