"""Export and import in every format: value-identical round trips, byte-identical re-exports,
the documented Parquet schema, progress, and where an export may write."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from exchange_helpers import COLUMNS, assert_same_samples, recorded, samples

from firmware_bridge.errors import UsageError
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import (
    export_csv,
    export_json,
    export_parquet,
    export_session,
    import_file,
)
from firmware_bridge.zones import JudgedSamples, Zone

N = 150_000  # more than one export batch (131,072) and one stored import chunk (32,768)


@pytest.fixture(scope="module")
def session_data() -> JudgedSamples:
    data = samples(N)
    data.force_n[5] = 1e-300  # extreme values still come back exactly
    data.force_n[6] = 0.1 + 0.2
    data.force_n[8] = -0.0
    data.filtered_n[9] = 5e-324
    data.raw[10] = 2.0**31 - 1
    return data


def _arrays(store: Store, sid: int) -> dict[str, np.ndarray]:
    return store.load_arrays(sid, COLUMNS)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@pytest.mark.parametrize("tip_area", [None, 0.785398, 2.0 / 3.0])
def test_every_format_round_trips_every_value(
    store: Store, session_data: JudgedSamples, tmp_path: Path, fmt: str, tip_area: float | None
) -> None:
    sid = recorded(store, session_data, tip_area=tip_area)
    path = tmp_path / f"session.{fmt}"
    assert export_session(store, sid, fmt, path) == N
    new = import_file(store, path)
    assert new != sid
    assert_same_samples(_arrays(store, new), _arrays(store, sid))
    assert np.signbit(_arrays(store, new)["force_n"][8])  # -0.0 stays negative zero
    summary = store.session_summary(new)
    assert summary["n_samples"] == N and summary["status"] == "ended"
    assert summary["tip_area_cm2"] == tip_area  # CSV: found again from pressure_kpa
    assert summary["meta"]["imported_from"] == {
        "file": path.name,
        "format": fmt,
        "complete": True,
    } | ({} if fmt == "csv" else {"id": sid})
    again = tmp_path / f"again.{fmt}"
    export_session(store, new, fmt, again)
    if fmt == "csv":
        assert again.read_bytes() == path.read_bytes()  # byte-identical
    elif fmt == "json":  # identical but for the session's own id and meta
        first, second = json.loads(path.read_bytes()), json.loads(again.read_bytes())
        assert first["samples"] == second["samples"]
        for doc in (first, second):
            for key in ("id", "meta", "heartbeat_at"):
                doc["session"].pop(key)
        assert first["session"] == second["session"]
    else:
        assert pq.read_table(again).equals(pq.read_table(path))


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_json_and_parquet_keep_the_whole_session(
    store: Store, session_data: JudgedSamples, tmp_path: Path, fmt: str
) -> None:
    sid = recorded(store, session_data, tip_area=1.5)
    path = tmp_path / f"s.{fmt}"
    export_session(store, sid, fmt, path)
    new = import_file(store, path)
    before, after = store.session_summary(sid), store.session_summary(new)
    for key in ("id", "meta", "heartbeat_at"):
        before.pop(key)
        after.pop(key)
    assert after == before
    assert store.events(new) == store.events(sid)


def test_csv_text_is_plain_and_exact(store: Store, session_data: JudgedSamples) -> None:
    sid = recorded(store, session_data, tip_area=0.785)
    out = io.StringIO()
    export_csv(store, sid, out)
    text = out.getvalue()
    lines = text.split("\n")
    assert lines[0] == "t_s,force_n,filtered_n,zone,raw,pressure_kpa"
    assert lines[-1] == "" and len(lines) == N + 2
    rows = list(csv.DictReader(io.StringIO(text)))
    force = np.array([float(r["force_n"]) if r["force_n"] else np.nan for r in rows])
    np.testing.assert_array_equal(force, session_data.force_n)
    assert rows[0]["t_s"] == "0.0" and rows[1]["t_s"] == "0.0125"
    assert rows[6]["force_n"] == "0.30000000000000004"  # the shortest text that reads back
    assert rows[3]["force_n"] == "" and rows[3]["pressure_kpa"] == ""  # NaN: empty
    assert rows[0]["raw"].isdigit() and rows[5]["raw"] == "" and rows[10]["raw"] == "2147483647"
    assert {r["zone"] for r in rows} == {z.label for z in Zone}
    assert float(rows[0]["pressure_kpa"]) == 10.0 * session_data.force_n[0] / 0.785


def test_parquet_has_the_documented_schema(
    store: Store, session_data: JudgedSamples, tmp_path: Path
) -> None:
    sid = recorded(store, session_data, tip_area=0.5)
    path = tmp_path / "s.parquet"
    export_parquet(store, sid, path)
    table = pq.read_table(path)
    assert table.schema.names == ["t_s", "force_n", "filtered_n", "zone", "raw", "pressure_kpa"]
    types = [table.schema.field(c).type for c in table.schema.names]
    assert types == [pa.float64()] * 3 + [pa.string()] + [pa.float64()] * 2
    assert not table.schema.field("t_s").nullable
    head = json.loads(table.schema.metadata[b"pressureguard"])
    assert head["format"] == "pressureguard-session" and head["version"] == 1
    assert head["session"]["id"] == sid and head["session"]["events"]
    frame = pd.read_parquet(path)  # pandas: NaN where the CSV has an empty field
    assert len(frame) == N and np.isnan(frame["force_n"][3]) and frame["zone"][0] == "no_signal"
    np.testing.assert_array_equal(frame["raw"].to_numpy(), session_data.raw)
    assert pq.ParquetFile(path).metadata.row_group(0).num_rows <= 131072


def test_progress_counts_up_to_the_whole(
    store: Store, session_data: JudgedSamples, tmp_path: Path
) -> None:
    sid = recorded(store, session_data)
    for fmt in ("csv", "json", "parquet"):
        seen: list[tuple[int, int]] = []
        path = tmp_path / f"p.{fmt}"
        export_session(store, sid, fmt, path, progress=lambda d, t, s=seen: s.append((d, t)))
        total = 5 * N if fmt == "json" else N  # JSON counts each column's samples
        assert seen[-1] == (total, total)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        got: list[tuple[int, int]] = []
        import_file(store, path, progress=lambda d, t, g=got: g.append((d, t)))
        assert got[0] == (0, path.stat().st_size) and got[-1] == (path.stat().st_size,) * 2


def test_exports_to_streams_and_empty_sessions(store: Store, tmp_path: Path) -> None:
    sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    store.end_session(sid)
    out = io.StringIO()
    assert export_json(store, sid, out) == 0
    assert json.loads(out.getvalue())["samples"]["t_s"] == []
    binary = io.BytesIO()
    assert (
        export_csv(store, sid, binary) == 0
        and binary.getvalue() == b"t_s,force_n,filtered_n,zone,raw\n"
    )
    with pytest.raises(UsageError, match="Parquet is binary"):
        export_parquet(store, sid, io.StringIO())
    path = tmp_path / "empty.parquet"
    export_parquet(store, sid, path)
    assert pq.read_table(path).num_rows == 0
    new = import_file(store, path)
    assert store.session_summary(new)["n_samples"] == 0


def test_an_export_never_writes_through_a_link(store: Store, tmp_path: Path) -> None:
    sid = recorded(store, samples(100))
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    link = tmp_path / "out.csv"
    link.symlink_to(precious)
    with pytest.raises(UsageError, match=r"out.csv is a symbolic link \(to .*precious.txt\)"):
        export_csv(store, sid, link)
    assert precious.read_text() == "keep me" and link.is_symlink()
    with pytest.raises(UsageError, match="is not a regular file"):
        export_csv(store, sid, tmp_path)
    with pytest.raises(UsageError, match="no such directory"):
        export_csv(store, sid, tmp_path / "nope" / "x.csv")
    existing = tmp_path / "existing.csv"
    existing.write_text("old")
    export_csv(store, sid, existing)
    assert existing.read_text().startswith("t_s,")
    mask = os.umask(0)
    os.umask(mask)
    assert existing.stat().st_mode & 0o777 == 0o666 & ~mask  # a file like any other, not 0600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_infinite_values_are_written_and_then_refused_by_name(store: Store, tmp_path: Path) -> None:
    """No tool records an infinite force, but the store could hold one: every format writes it
    readably (JSON as ±1e999), and import refuses it, saying where."""
    data = samples(10)
    data.force_n[4] = np.inf
    data.filtered_n[5] = -np.inf
    sid = recorded(store, data)
    for fmt, where in (
        ("csv", "line 6: force_n"),
        ("json", r"samples.force_n\[4\]"),
        ("parquet", "row 5: force_n"),
    ):
        path = tmp_path / f"inf.{fmt}"
        export_session(store, sid, fmt, path)
        if fmt == "json":
            doc = json.loads(path.read_text())
            assert doc["samples"]["force_n"][4] == np.inf
            assert doc["samples"]["filtered_n"][5] == -np.inf
            assert "1e999" in path.read_text()
        with pytest.raises(UsageError, match=rf"^inf.{fmt}:? {where} is inf: not a finite number$"):
            import_file(store, path)


def test_json_rewritten_by_another_program_still_imports(store: Store, tmp_path: Path) -> None:
    """Pretty-printed, keys sorted (samples before session), a byte-order mark: all the same."""
    data = samples(5000)
    sid = recorded(store, data)
    path = tmp_path / "s.json"
    export_json(store, sid, path)
    doc = json.loads(path.read_text())
    pretty = tmp_path / "pretty.json"
    pretty.write_text("\ufeff" + json.dumps(doc, indent=2, sort_keys=True), encoding="utf-8")
    new = import_file(store, pretty)
    assert_same_samples(_arrays(store, new), _arrays(store, sid))
    assert store.session_summary(new)["profile"] == "ann"


def test_a_time_of_minus_zero_imports_and_reads_back(store: Store, tmp_path: Path) -> None:
    """Found by the import fuzzer: ``-.0`` is a time of zero; SQLite keeps it as 0.0, and the
    chunk's sum once took the sign into account, so the session read back as damaged."""
    path = tmp_path / "minus-zero.csv"
    path.write_text("t_s,force_n\n-.0,0.0\n0.0125,1.5\n")
    sid = import_file(store, path)
    samples = store.load_samples(sid)
    assert samples.t_s.tolist() == [0.0, 0.0125] and samples.force_n.tolist() == [0.0, 1.5]
    store.wait_for_compaction()
    assert store.load_samples(sid).t_s.tolist() == [0.0, 0.0125]
