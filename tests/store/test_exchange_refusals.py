"""Bad files are refused in one line that names the problem and the line, item or row, and
leave the store as it was (issue 13, item 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from exchange_helpers import HEADER, recorded, samples, snapshot, write

from firmware_bridge.errors import NotFoundError, PressureGuardError, UsageError
from firmware_bridge.store import Store, _import_parquet, _json_stream
from firmware_bridge.store.exchange import export_session, import_file

H = HEADER
ROW = "0,1,1,relaxed,5\n"
JSON_HEAD = '{"format": "pressureguard-session", "version": 1, "session": {}, "samples": '


@pytest.fixture
def kept(store: Store) -> Store:
    """A store that already holds a session (a refused import must leave it as it is)."""
    recorded(store, samples(500))
    return store


def refused(store: Store, path: Path, message: str, error: type = UsageError) -> str:
    """Import ``path``; it must fail with one line matching ``message``, changing nothing."""
    before = snapshot(store)
    with pytest.raises(error, match=message) as info:
        import_file(store, path)
    text = str(info.value)
    assert "\n" not in text and "\r" not in text, text
    assert snapshot(store) == before
    return text


CSV_CASES = [
    (
        "judged-without-force.csv",  # found by the atheris import fuzzer: a "safe" never measured
        H + ROW + "0.1,,1,relaxed,5\n",
        r"^judged-without-force.csv line 3: force_n is empty while the sample's zone is relaxed: "
        r"a sample without a force is uncalibrated, no_signal or danger$",
    ),
    (
        "uncalibrated-without-force.csv",
        H + ROW + "0.1,,,uncalibrated,5\n0.2,x,1,relaxed,5\n",
        r"^uncalibrated-without-force.csv line 4: force_n 'x' is not a number",
    ),  # line 3 is fine
    (
        "inf.csv",
        H + ROW + "0.1,inf,1,relaxed,5\n",
        r"^inf.csv line 3: force_n is inf: not a finite number$",
    ),
    (
        "nan.csv",
        H + "0,nan,1,relaxed,5\n",
        r"^nan.csv line 2: force_n is nan: not a finite number$",
    ),
    ("tnan.csv", H + "NaN,1,1,relaxed,5\n", r"^tnan.csv line 2: t_s is nan: not a finite number$"),
    (
        "neg.csv",
        H + "-0.5,1,1,relaxed,5\n",
        r"^neg.csv line 2: t_s is -0.5: before the session's start$",
    ),
    (
        "late.csv",
        H + "1e9,1,1,relaxed,5\n",
        r"^late.csv line 2: t_s is 1000000000.0: more than 31 days",
    ),
    (
        "back.csv",
        H + ROW + "1,1,1,relaxed,5\n0.5,1,1,relaxed,5\n",
        r"^back.csv line 4: t_s is 0.5, before the sample above it \(1.0\): times must increase$",
    ),
    (
        "dup.csv",
        H + ROW + "0.5,1,1,relaxed,5\n0.5,2,1,relaxed,5\n",
        r"^dup.csv line 4: t_s is 0.5 again: two samples at the same time$",
    ),
    (
        "push.csv",
        H + "0,1e7,1,relaxed,5\n",
        r"^push.csv line 2: force_n is 10000000.0 N: outside what a hand-held tool reports "
        r"\(-1000 to 100000 N\)$",
    ),
    (
        "pull.csv",
        H + "0,1,-5000,relaxed,5\n",
        r"^pull.csv line 2: filtered_n is -5000.0 N: outside",
    ),
    (
        "raw.csv",
        H + "0,1,1,relaxed,1e12\n",
        r"^raw.csv line 2: raw is 1000000000000.0: more than a 32-bit",
    ),
    (
        "p.csv",
        "t_s,force_n,pressure_kpa\n0,1,10\n1,1,-inf\n",
        r"^p.csv line 3: pressure_kpa is -inf: not a finite",
    ),
    (
        "blank.csv",
        H + ROW + "\n\r\n0.1,x,1,relaxed,5\n",
        r"^blank.csv line 5: force_n 'x' is not a number$",
    ),
    ("wide.csv", H + "0,1,1,relaxed,5,9\n", r"^wide.csv line 2: 6 fields, expected 5$"),
    (
        "cols.csv",
        "t_s,Force\n0,1\n",
        r"^cols.csv line 1: not a PressureGuard CSV export \(no force_n column\)$",
    ),
    ("zone.csv", H + '0,1,1,"rel\naxed",5\n', r"^zone.csv line 2: unknown zone 'rel\\naxed'"),
]


@pytest.mark.parametrize(("name", "text", "message"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_bad_csv_values(kept: Store, tmp_path: Path, name: str, text: str, message: str) -> None:
    refused(kept, write(tmp_path, name, text), message)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "junk.csv",
            (H + ROW).encode() + b"\x00\x01\x02\xff,1,1,relaxed,5\n",
            r"^junk.csv line 3: not UTF-8 text",
        ),
        (
            "nul.csv",
            (H + ROW).encode() + b"0.1,\x00,1,relaxed,5\n",
            r"^nul.csv line 3: binary data \(a NUL byte\)$",
        ),
        (
            "png.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            r"^png.csv line 1: not UTF-8 text, not a CSV export$",
        ),
        ("random.csv", np.random.default_rng(1).bytes(100_000), r"^random.csv line 1: "),
    ],
)
def test_binary_junk(kept: Store, tmp_path: Path, name: str, data: bytes, message: str) -> None:
    refused(kept, write(tmp_path, name, data), message)


def test_a_problem_deep_in_a_big_csv_is_found_and_nothing_is_kept(
    kept: Store, tmp_path: Path
) -> None:
    n = 600_000  # ~14 MB: two blocks, and chunks of the session already written and committed
    t = np.arange(n) / 1000.0
    t[n - 10] = t[n - 11]  # the same time twice, far into the second block
    rows = "\n".join(f"{x!r},{k % 9},{k % 9},relaxed,{k}" for k, x in enumerate(t.tolist()))
    path = write(tmp_path, "big.csv", H + rows + "\n")
    assert path.stat().st_size > 8 << 20
    refused(kept, path, rf"^big.csv line {n - 10 + 2}: t_s is {float(t[n - 10])!r} again")


def test_a_line_that_never_ends_is_not_read_whole(kept: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", H + ROW + "0," + "1" * (9 << 20))
    refused(kept, path, r"^long.csv line 3: longer than 1 MB, not a sample$")


def _json(tmp_path: Path, name: str, samples_json: str) -> Path:
    return write(tmp_path, name, JSON_HEAD + samples_json + "}")


JSON_CASES = [
    (
        '{"t_s": [0, 1], "force_n": [1, 1e999]}',
        r"samples.force_n\[1\] is inf: not a finite number$",
    ),
    ('{"t_s": [0], "force_n": [NaN]}', r"samples.force_n\[0\] is nan: not a finite number$"),
    ('{"t_s": [-1], "force_n": [1]}', r"samples.t_s\[0\] is -1.0: before the session's start$"),
    ('{"t_s": [0, 0], "force_n": [1, 2]}', r"samples.t_s\[1\] is 0.0 again: two samples"),
    (
        '{"t_s": [0, 2, 1], "force_n": [1, 2, 3]}',
        r"samples.t_s\[2\] is 1.0, before the sample above",
    ),
    ('{"t_s": [0], "force_n": [2e5]}', r"samples.force_n\[0\] is 200000.0 N: outside"),
    ('{"t_s": [0,,1], "force_n": [1, 2, 3]}', r"samples.t_s\[1\] is missing \(no value between"),
    ('{"t_s": [0, 1,], "force_n": [1, 2]}', r"samples.t_s\[2\] is missing"),
    ('{"t_s": [0], "force_n": [true]}', r"samples.force_n\[0\] is True, not a number$"),
    ('{"t_s": [0, 1], "force_n": [1 2]}', r"samples.force_n\[0\] is '1 2', not a number$"),
    ('{"t_s": [0], "force_n": [1], "zone": ["calm"]}', r"samples.zone\[0\]: unknown zone 'calm'"),
    (
        '{"t_s": [0], "force_n": [[1]]}',
        r"line 1: not valid JSON \(expected ',' or '}', found ']'\)$",
    ),
    ('{"t_s": [0], "force_n": [1]}, "samples": {}', r"key 'samples' appears twice$"),
    ('{"t_s": [0, 1, 2]}', r'samples has no "force_n" column$'),
]


@pytest.mark.parametrize(("samples_json", "message"), JSON_CASES)
def test_bad_json_values(kept: Store, tmp_path: Path, samples_json: str, message: str) -> None:
    text = refused(kept, _json(tmp_path, "x.json", samples_json), message)
    assert text.startswith(("x.json: ", "x.json line "))


def test_bad_json_files(kept: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(
        kept,
        write(tmp_path, "u.json", b'{"format": "\xff\xfe"}'),
        r"^u.json line 1: not UTF-8 text$",
    )
    refused(
        kept, write(tmp_path, "l.json", "[1, 2]"), r"^l.json is not a PressureGuard session export"
    )
    refused(
        kept,
        write(tmp_path, "g.json", "{\n\n]"),
        r"^g.json line 3: not valid JSON \(expected a key",
    )
    sid = recorded(kept, samples(20_000))
    whole = kept.session_summary(sid)
    path = tmp_path / "whole.json"
    export_session(kept, sid, "json", path)
    cut = write(tmp_path, "cut.json", path.read_bytes()[: path.stat().st_size // 2])
    refused(kept, cut, r"^cut.json line \d+: not valid JSON \(a list that never ends\)$")
    monkeypatch.setattr(_json_stream, "HEAD_LIMIT", 1 << 20)
    big = JSON_HEAD.replace('"session": {}', '"session": {"note": "' + "x" * (3 << 20) + '"}')
    refused(
        kept,
        write(tmp_path, "h.json", big + '{"t_s": [], "force_n": []}}'),
        r"^h.json line 1: a value over 1 MB",
    )
    assert whole["n_samples"] == 20_000


def _parquet(tmp_path: Path, name: str, columns: dict[str, list[object]], **kw: object) -> Path:
    path = tmp_path / name
    pq.write_table(pa.table(columns), path, **kw)
    return path


PARQUET_CASES = [
    ({"t_s": [0.0, 1.0, 1.0], "force_n": [1.0, 2.0, 3.0]}, r"^x.parquet row 3: t_s is 1.0 again"),
    (
        {"t_s": [0.0, 1.0], "force_n": [1.0, float("inf")]},
        r"^x.parquet row 2: force_n is inf: not a",
    ),
    ({"t_s": [0.0], "force_n": [1.0], "zone": [9]}, r"^x.parquet row 1: zone 9 is not a zone$"),
    ({"t_s": [0.0], "force_n": [1.0], "zone": ["calm"]}, r"^x.parquet row 1: unknown zone 'calm'"),
    ({"t_s": ["0"], "force_n": [1.0]}, r"^x.parquet: column t_s holds string, not numbers$"),
    (
        {"t_s": [0.0], "force": [1.0]},
        r"^x.parquet: not a PressureGuard export \(no force_n column\)$",
    ),
    (
        {"t_s": [0.0, None], "force_n": [1.0, 2.0]},
        r"^x.parquet row 2: t_s must be a number, found ''$",
    ),
]


@pytest.mark.parametrize(("columns", "message"), PARQUET_CASES)
def test_bad_parquet_values(
    kept: Store, tmp_path: Path, columns: dict[str, list[object]], message: str
) -> None:
    refused(kept, _parquet(tmp_path, "x.parquet", columns), message)


def test_bad_parquet_files(kept: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused(
        kept,
        write(tmp_path, "j.parquet", b"PAR1" + b"\x00" * 500),
        r"^j.parquet is not a readable Parquet file \(",
    )
    sid = recorded(kept, samples(50_000))
    path = tmp_path / "good.parquet"
    export_session(kept, sid, "parquet", path)
    data = bytearray(path.read_bytes())
    refused(
        kept,
        write(tmp_path, "cut.parquet", bytes(data[:-100])),
        r"^cut.parquet is not a readable Parquet",
    )
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # a damaged page: its checksum says so
    refused(kept, write(tmp_path, "bad.parquet", bytes(data)), r"^bad.parquet row \d+: unreadable")
    monkeypatch.setattr(_import_parquet, "MAX_ROW_GROUP", 1000)
    refused(kept, path, r"^good.parquet: row group 1 holds \d[\d,]* rows, more than 1,000")


def test_paths_that_are_not_files(kept: Store, tmp_path: Path) -> None:
    refused(kept, tmp_path, r"is a directory, not a file$")
    refused(kept, tmp_path / "none.csv", r"^no such file: ", NotFoundError)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "gone.csv")
    refused(
        kept,
        dangling,
        r"dangling.csv is a symbolic link to .*gone.csv, which does not exist$",
        NotFoundError,
    )
    device = tmp_path / "device.csv"
    device.symlink_to("/dev/null")
    refused(kept, device, r"device.csv leads to /dev/null, a device, not a file$")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    refused(kept, fifo, r"fifo.csv is a pipe, not a file$")
    odd = write(tmp_path, "two\nlines.csv", H + "0,x,1,relaxed,5\n")
    assert "two\\nlines.csv line 2" in refused(kept, odd, r"force_n 'x' is not a number")


def test_a_link_to_an_export_is_followed_and_recorded(store: Store, tmp_path: Path) -> None:
    sid = recorded(store, samples(300))
    real = tmp_path / "real.csv"
    export_session(store, sid, "csv", real)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    new = import_file(store, link)
    origin = store.session_summary(new)["meta"]["imported_from"]
    assert origin["file"] == "link.csv" and origin["resolved"] == str(real.resolve())


KILLED_IMPORT = """
import os, signal, sys
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import import_file

def die(done, total):
    if done > 0:
        os.kill(os.getpid(), signal.SIGKILL)  # as a power cut would, mid-import

with Store.open(sys.argv[1]) as store:
    import_file(store, sys.argv[2], progress=die)
"""


def test_an_import_killed_half_way_is_removed_by_the_next(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Store.open(data_dir) as store:
        keep = recorded(store, samples(200))
        path = tmp_path / "big.csv"
        recorded_big = recorded(store, samples(700_000))
        export_session(store, recorded_big, "csv", path)
        store.delete_session(recorded_big)
    script = tmp_path / "kill.py"
    script.write_text(textwrap.dedent(KILLED_IMPORT))
    proc = subprocess.run(
        [sys.executable, str(script), str(data_dir), str(path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    with Store.open(data_dir) as store:
        left = [s for s in store.list_sessions() if s["id"] != keep]
        assert len(left) == 1 and left[0]["meta"]["imported_from"]["complete"] is False
        assert 0 < left[0]["n_samples"] < 700_000  # half of it was written
        small = tmp_path / "small.json"
        export_session(store, keep, "json", small)
        new = import_file(store, small)
        assert sorted(s["id"] for s in store.list_sessions()) == [keep, new]
        count = store._conn().execute(
            "SELECT COUNT(*) FROM sample_chunks WHERE session_id = ?", (left[0]["id"],)
        )
        assert count.fetchone()[0] == 0


def test_every_refusal_is_a_pressureguard_error(store: Store, tmp_path: Path) -> None:
    """A fuzz-ish sweep: slices of a valid export, and junk spliced in, never escape as
    anything but a PressureGuardError with one line."""
    sid = recorded(store, samples(3000))
    rng = np.random.default_rng(7)
    for fmt in ("csv", "json", "parquet"):
        path = tmp_path / f"v.{fmt}"
        export_session(store, sid, fmt, path)
        data = path.read_bytes()
        for k in range(25):
            damaged = bytearray(data)
            at = int(rng.integers(0, len(data)))
            if k % 2:
                damaged = damaged[:at]
            else:
                damaged[at : at + 8] = rng.bytes(8)
            bad = write(tmp_path, f"d{k}.{fmt}", bytes(damaged))
            before = snapshot(store)
            try:
                new = import_file(store, bad)
            except PressureGuardError as exc:
                assert "\n" not in str(exc)
                assert snapshot(store) == before
            else:  # junk that happened to land in a harmless place
                store.delete_session(new)
    assert json.dumps(snapshot(store))
