"""CSV and JSON export and import."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import NotFoundError, UsageError
from firmware_bridge.store import Store, export_csv, export_json, import_file
from firmware_bridge.zones import JudgedSamples, SessionEvent, Zone

SamplesEqual = Callable[[JudgedSamples, JudgedSamples], None]
MakeSamples = Callable[..., JudgedSamples]


def _recorded(store: Store, samples: JudgedSamples, *, tip_area: float | None = None) -> int:
    sid = store.begin_session(
        source="/dev/ttyACM0",
        profile="ann",
        region="upper-trapezius:left",
        limit_n=18.5,
        started_at=datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
        meta={"pattern": "holds"},
    )
    store.update_session(
        sid,
        device_id="PG-0042",
        firmware="1.0.3",
        calibration={"counts_per_n": 4000.0},
        tip="tool" if tip_area else None,  # the tool's own flat tip
        tip_area_cm2=tip_area,
        rate_hz=80.0,
        tare_n=0.125,
        pain_before=5,
        note="évening",
    )
    for start in range(0, len(samples), 333):  # many chunks, as the bridge writes them
        columns = ("t_s", "raw", "force_n", "filtered_n", "zone")
        part = JudgedSamples(*(getattr(samples, c)[start : start + 333] for c in columns))
        store.append_samples(sid, part)
    store.add_events(
        sid,
        [
            SessionEvent(1.0, "zone", {"from": "relaxed", "to": "over"}),
            SessionEvent(2.5, "gap", {"start_s": 2.5, "end_s": 3.0, "reason": "unplugged"}),
        ],
    )
    store.set_counters(sid, {"time_over_limit_s": 0.75, "bad_frames_by_kind": {"crc": 2}})
    store.end_session(sid, ended_at=datetime(2024, 6, 1, 8, 10, tzinfo=UTC))
    return sid


def _csv_text(store: Store, sid: int) -> str:
    out = io.StringIO()
    export_csv(store, sid, out)
    return out.getvalue()


def test_csv_export_format(store: Store, make_samples: MakeSamples) -> None:
    samples = make_samples(1000)
    samples.force_n[5] = 1e-300  # extreme values still round-trip
    samples.force_n[6] = 0.1 + 0.2
    sid = _recorded(store, samples, tip_area=0.785)
    text = _csv_text(store, sid)
    lines = text.split("\n")
    assert lines[0] == "t_s,force_n,filtered_n,zone,raw,pressure_kpa"
    assert lines[-1] == "" and len(lines) == 1002
    rows = list(csv.DictReader(io.StringIO(text)))
    force = np.array([float(r["force_n"]) if r["force_n"] else np.nan for r in rows])
    np.testing.assert_array_equal(force, samples.force_n)  # exactly the recorded float64
    assert rows[3]["force_n"] == "" and rows[3]["pressure_kpa"] == ""  # NaN → empty
    assert rows[6]["force_n"] == repr(0.1 + 0.2)
    assert {r["zone"] for r in rows} == {z.label for z in Zone}
    assert rows[0]["raw"].isdigit() and rows[5]["raw"] == ""
    assert float(rows[0]["pressure_kpa"]) == 10.0 * samples.force_n[0] / 0.785
    assert rows[1]["t_s"] == "0.0125"


def test_csv_without_tip_area_has_no_pressure_column(
    store: Store, make_samples: MakeSamples
) -> None:
    sid = _recorded(store, make_samples(10))
    assert _csv_text(store, sid).split("\n")[0] == "t_s,force_n,filtered_n,zone,raw"


@pytest.mark.parametrize("tip_area", [None, 1.0, 0.785398, 2.0 / 3.0])
def test_csv_round_trip_is_identical(
    store: Store,
    make_samples: MakeSamples,
    samples_equal: SamplesEqual,
    tmp_path: Path,
    tip_area: float | None,
) -> None:
    samples = make_samples(70_000)  # more than one export batch
    sid = _recorded(store, samples, tip_area=tip_area)
    path = tmp_path / "session.csv"
    assert export_csv(store, sid, path) == 70_000
    new = import_file(store, path)
    assert new != sid
    samples_equal(store.load_samples(new), samples)
    again = tmp_path / "again.csv"
    export_csv(store, new, again)
    assert again.read_bytes() == path.read_bytes()
    summary = store.session_summary(new)
    assert summary["source"] == "import:session.csv" and summary["profile"] == "default"
    assert summary["n_samples"] == 70_000 and summary["status"] == "ended"
    assert summary["duration_s"] == pytest.approx(samples.t_s[-1], abs=0.002)
    over = np.diff(samples.t_s)[np.asarray(samples.zone[:-1]) >= Zone.OVER].sum()
    assert summary["time_over_limit_s"] == pytest.approx(over)


def test_json_round_trip_keeps_everything(
    store: Store, make_samples: MakeSamples, samples_equal: SamplesEqual, tmp_path: Path
) -> None:
    samples = make_samples(2000)
    sid = _recorded(store, samples, tip_area=1.5)
    path = tmp_path / "session.json"
    assert export_json(store, sid, path) == 2000
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert (doc["format"], doc["version"]) == ("pressureguard-session", 1)
    assert doc["session"]["id"] == sid and len(doc["session"]["events"]) == 2
    assert list(doc["samples"]) == ["t_s", "force_n", "filtered_n", "zone", "raw", "pressure_kpa"]
    assert doc["samples"]["force_n"][3] is None and doc["samples"]["zone"][0] == "no_signal"

    new = import_file(store, path)
    samples_equal(store.load_samples(new), samples)
    before, after = store.session_summary(sid), store.session_summary(new)
    for key in ("id", "meta", "heartbeat_at"):
        before.pop(key)
        after.pop(key)
    assert after == before and after["tip"] == "tool"
    assert store.session_summary(new)["meta"]["imported_from"]["id"] == sid
    assert _csv_text(store, new) == _csv_text(store, sid)


def test_json_export_to_a_stream_and_empty_session(store: Store) -> None:
    sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    store.end_session(sid)
    out = io.StringIO()
    assert export_json(store, sid, out) == 0
    doc = json.loads(out.getvalue())
    assert doc["samples"]["t_s"] == [] and doc["session"]["n_samples"] == 0


def test_export_of_an_unknown_session(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no session 5"):
        export_csv(store, 5, tmp_path / "x.csv")
    assert not list(tmp_path.glob("x.csv*"))  # no partial file left


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "t_s,force_n,filtered_n,zone,raw\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.csv", "", r"^empty.csv is empty$"),
        ("h.csv", "time,force\n1,2\n", r"^h.csv line 1: not a PressureGuard CSV export \(no t_s"),
        ("d.csv", "t_s,force_n,t_s\n", r"^d.csv line 1: column t_s appears twice$"),
        ("n.csv", HEADER, r"^n.csv has no samples after its header line$"),
        (
            "f.csv",
            HEADER + "0,1,1,relaxed,5\n0.1,x,1,relaxed,5\n",
            r"^f.csv line 3: force_n 'x' is not a number$",
        ),
        ("w.csv", HEADER + "0,1,1,relaxed\n", r"^w.csv line 2: 4 fields, expected 5$"),
        ("z.csv", HEADER + "0,1,1,calm,5\n", r"^z.csv line 2: unknown zone 'calm'"),
        ("t.csv", HEADER + "\n,1,1,relaxed,5\n", r"^t.csv line 3: t_s must be a number"),
        (
            "j.json",
            '{"format": "pressureguard-session",\n "version": 1,,}',
            r"^j.json line 2: not valid JSON",
        ),
        ("o.json", '{"format": "something-else"}', r"^o.json is not a PressureGuard session"),
        (
            "v.json",
            '{"format": "pressureguard-session", "version": 2}',
            r"^v.json was written by a newer PressureGuard \(format version 2",
        ),
        (
            "s.json",
            '{"format": "pressureguard-session", "version": 1, "session": {},'
            ' "samples": {"t_s": [0.0], "force_n": ["a"]}}',
            r"^s.json: samples.force_n\[0\] is 'a', not a number$",
        ),
        (
            "l.json",
            '{"format": "pressureguard-session", "version": 1, "session": {},'
            ' "samples": {"t_s": [0.0], "force_n": [1.0, 2.0]}}',
            r"^l.json: samples.force_n must be a list as long as samples.t_s$",
        ),
        (
            "a.json",
            '{"format": "pressureguard-session", "version": 1, "session":'
            ' {"started_at": "yesterday"}, "samples": {"t_s": [], "force_n": []}}',
            r"^a.json: session.started_at 'yesterday' is not an ISO-8601 time$",
        ),
        (
            "p.json",
            '{"format": "pressureguard-session", "version": 1, "session":'
            ' {"started_at": "2024-01-01T00:00:00+00:00", "pain_after": 12},'
            ' "samples": {"t_s": [], "force_n": []}}',
            r"^p.json: pain after must be between 0 and 10",
        ),
    ],
)
def test_bad_files_are_refused_with_one_clear_line(
    store: Store, tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(UsageError, match=message) as info:
        import_file(store, path)
    assert "\n" not in str(info.value)
    assert store.list_sessions() == []  # nothing half-imported is left


def test_a_late_error_leaves_no_session_behind(store: Store, tmp_path: Path) -> None:
    rows = "".join(f"{k / 80},{k % 9},{k % 9},relaxed,{k}\n" for k in range(70_000))
    path = _write(tmp_path, "late.csv", HEADER + rows + "875.0,oops,1,relaxed,1\n")
    with pytest.raises(UsageError, match=r"^late.csv line 70002: force_n 'oops'"):
        import_file(store, path)
    assert store.list_sessions() == []
    assert store._conn().execute("SELECT COUNT(*) FROM sample_chunks").fetchone()[0] == 0


def test_missing_file_and_minimal_csv(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file"):
        import_file(store, tmp_path / "nope.csv")
    with pytest.raises(UsageError, match="not a file"):
        import_file(store, tmp_path)
    path = _write(tmp_path, "min.csv", "t_s,force_n\r\n0.0,1.5\r\n\r\n0.5,\r\n")
    sid = import_file(store, path)
    loaded = store.load_samples(sid)
    assert loaded.t_s.tolist() == [0.0, 0.5] and loaded.force_n[0] == 1.5
    assert np.isnan(loaded.force_n[1]) and np.isnan(loaded.raw).all()
    assert loaded.zone.tolist() == [int(Zone.UNCALIBRATED)] * 2


def test_json_nested_too_deep_is_refused_in_words(store: Store, tmp_path: Path) -> None:
    head = '{"format": "pressureguard-session", "version": 1, "session": '
    path = _write(tmp_path, "deep.json", head + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(UsageError, match="nested too deep"):
        import_file(store, path)
    path = _write(tmp_path, "list.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(UsageError, match=r"^list\.json is not a PressureGuard session export"):
        import_file(store, path)
    assert store.list_sessions() == []
