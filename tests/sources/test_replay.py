"""Replay: captures come back byte for byte with their timing; CSV exports come back as samples."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import ProtocolError, SourceLostError, SourceOpenError, UsageError
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.readings import SampleBatch
from firmware_bridge.sources.base import Chunk, Source, Transport
from firmware_bridge.sources.capture import CaptureWriter
from firmware_bridge.sources.replay import (
    RAW_BYTES_PER_S,
    CaptureReplayTransport,
    CsvReplaySource,
    parse_replay_url,
)
from firmware_bridge.sources.sim import SimTransport

# -- URLs -----------------------------------------------------------------------------------------


def test_parse_replay_url() -> None:
    assert parse_replay_url("replay:///data/s.csv") == (Path("/data/s.csv"), 1.0)
    assert parse_replay_url("replay://rel/cap.BIN?speed=0") == (Path("rel/cap.BIN"), 0.0)
    assert parse_replay_url("replay://a b.bin?speed=2.5") == (Path("a b.bin"), 2.5)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("replay://x.txt", "replay needs a .bin capture or a .csv export"),
        ("replay://", "needs a file"),
        ("replay://x.bin?speed=fast", "speed must be 0"),
        ("replay://x.bin?speed=-1", "speed must be 0"),
        ("replay://x.bin?loop=1", "no option 'loop'"),
        ("sim://x.bin", "not a replay source"),
    ],
)
def test_parse_replay_url_rejects(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_replay_url(url)


# -- captures -------------------------------------------------------------------------------------


def read_all(transport: Transport, timeout: float = 0.5) -> list[Chunk]:
    out = []
    with pytest.raises(EOFError):
        while True:
            chunk = transport.read(timeout)
            if chunk is not None:
                out.append(chunk)
    return out


def capture(path: Path, chunks: list[Chunk], framing: str = "stream") -> None:
    with CaptureWriter(path, "test://", framing) as writer:
        for chunk in chunks:
            writer.write(chunk)


def test_bin_replay_at_speed_0_gives_back_the_captured_bytes_and_times(tmp_path: Path) -> None:
    path = tmp_path / "sim.bin"
    recorded = []
    with (
        SimTransport("sim://?seed=9&speed=0&duration=30") as sim,
        CaptureWriter(path, "sim://", "stream") as writer,
        pytest.raises(EOFError),
    ):
        while True:
            chunk = sim.read(0.1)
            if chunk is not None:
                writer.write(chunk)
                recorded.append(chunk)
    with CaptureReplayTransport(path, speed=0) as replay:
        assert replay.framing == "stream"
        assert replay.at_stream_start
        played = read_all(replay)
    assert [c.data for c in played] == [c.data for c in recorded]
    recorded_offsets = np.array([c.t_host - recorded[0].t_host for c in recorded])
    played_offsets = np.array([c.t_host - played[0].t_host for c in played])
    np.testing.assert_allclose(played_offsets, recorded_offsets, atol=1e-9)
    decoder = BinaryDecoder()
    for chunk in played:
        decoder.feed(chunk.data)
    assert decoder.stats.bad_frames == 0
    assert decoder.stats.samples == 30 * 80


def spaced_chunks(n: int, gap: float) -> list[Chunk]:
    return [Chunk(bytes([i]) * 10, 50.0 + i * gap) for i in range(n)]


@pytest.mark.parametrize(("speed", "expected"), [(1.0, 0.6), (3.0, 0.2)])
def test_bin_replay_reproduces_timing(tmp_path: Path, speed: float, expected: float) -> None:
    path = tmp_path / "timed.bin"
    capture(path, spaced_chunks(4, 0.2))
    with CaptureReplayTransport(path, speed) as replay:
        start = time.monotonic()
        played = read_all(replay, timeout=0.05)
        wall = time.monotonic() - start
    assert expected * 0.8 < wall < expected + 1.0
    offsets = [c.t_host - played[0].t_host for c in played]
    assert offsets == pytest.approx([0.0, 0.2, 0.4, 0.6])  # stamps do not depend on the speed


def test_bin_replay_read_returns_none_until_due(tmp_path: Path) -> None:
    path = tmp_path / "slow.bin"
    capture(path, spaced_chunks(2, 5.0))
    with CaptureReplayTransport(path) as replay:
        assert replay.read(0.1) is not None
        start = time.monotonic()
        assert replay.read(0.05) is None
        assert time.monotonic() - start < 1.0
    with pytest.raises(SourceLostError):
        replay.read(0.0)


def test_packet_capture_replays_as_a_packet_transport(tmp_path: Path) -> None:
    path = tmp_path / "ble.bin"
    capture(path, spaced_chunks(3, 0.01), framing="packet")
    with CaptureReplayTransport.from_url(f"replay://{path}?speed=0") as replay:
        assert isinstance(replay, CaptureReplayTransport)
        assert replay.framing == "packet"
        assert [c.data for c in read_all(replay)] == [c.data for c in spaced_chunks(3, 0.01)]


def test_plain_dump_replays_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "dump.bin"
    payload = bytes(range(256)) * 20
    path.write_bytes(payload)
    with CaptureReplayTransport(path, speed=0) as replay:
        played = read_all(replay)
    assert b"".join(c.data for c in played) == payload
    with CaptureReplayTransport(path, speed=50) as replay:  # paced as 115200 baud, sped up
        played = read_all(replay)
    assert b"".join(c.data for c in played) == payload
    assert {len(c.data) for c in played} == {256}
    steps = np.diff([c.t_host for c in played])
    np.testing.assert_allclose(steps, 256 / RAW_BYTES_PER_S)


def test_missing_capture(tmp_path: Path) -> None:
    with pytest.raises(SourceOpenError, match="cannot open capture"):
        CaptureReplayTransport(tmp_path / "gone.bin")


# -- CSV exports ----------------------------------------------------------------------------------

CSV = """\
t_s,force_n,filtered_n,zone,raw,pressure_kpa
0.0000,0.10,0.10,relaxed,85070,1.0
0.0125,0.20,0.15,relaxed,,2.0
0.0250,,0.15,relaxed,86140,
0.0375,12.5,6.0,"target",217750,125.0
"""


def read_batches(source: Source, timeout: float = 0.5) -> list[SampleBatch]:
    out: list[SampleBatch] = []
    with pytest.raises(EOFError):
        while True:
            for reading in source.read(timeout):
                assert isinstance(reading, SampleBatch)
                out.append(reading)
    return out


def test_csv_replay_of_a_hand_written_export(tmp_path: Path) -> None:
    path = tmp_path / "session.csv"
    path.write_text(CSV)
    with CsvReplaySource.from_url(f"replay://{path}?speed=0") as source:
        assert source.format == "csv"
        assert source.send(0x81, b"\x01") is False
        batches = read_batches(source)
        assert source.stats.samples == 4
    (batch,) = batches
    np.testing.assert_array_equal(batch.t, [0.0, 0.0125, 0.025, 0.0375])
    np.testing.assert_array_equal(batch.force_n, [0.1, 0.2, math.nan, 12.5])
    np.testing.assert_array_equal(batch.raw, [85070, math.nan, 86140, 217750])
    assert batch.device_clock
    assert batch.period_s == pytest.approx(0.0125)


def test_csv_without_raw_column_comments_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_bytes(b"# exported by PressureGuard\r\nforce_n,t_s\r\n1.5,0.0\r\n\r\n2.5,0.1\r\n")
    with CsvReplaySource(str(path), path, speed=0) as source:
        (batch,) = read_batches(source)
    np.testing.assert_array_equal(batch.t, [0.0, 0.1])
    np.testing.assert_array_equal(batch.force_n, [1.5, 2.5])
    assert np.isnan(batch.raw).all()


def test_csv_paced_in_batches_of_about_50_ms(tmp_path: Path) -> None:
    path = tmp_path / "paced.csv"
    t = np.arange(80) / 80  # 1 s at 80 Hz
    np.savetxt(path, np.column_stack([t, t * 10]), delimiter=",", header="t_s,force_n", comments="")
    batches: list[SampleBatch] = []
    start = time.monotonic()  # before the source starts its own clock
    with CsvReplaySource(str(path), path, speed=4) as source, pytest.raises(EOFError):
        while True:
            for reading in source.read(0.05):
                assert isinstance(reading, SampleBatch)
                batches.append(reading)
                # never early: the replay's clock starts with the first batch, and a later
                # one comes out once its time (at 4×) has come; a busy machine only makes
                # batches later, and then larger
                since_first = (reading.t[-1] - batches[0].t[-1]) / 4
                assert since_first <= time.monotonic() - start
    assert time.monotonic() - start > 0.2  # 1 s of session at 4×: paced, not at once
    assert sum(len(b) for b in batches) == 80
    assert 4 <= np.median([len(b) for b in batches]) <= 5  # 50 ms at 80 Hz, plus what fell due
    np.testing.assert_array_equal(np.concatenate([b.t for b in batches]), t)


def test_long_csv_streams_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    n = 150_000
    t = np.arange(n) / 80
    np.savetxt(
        path, np.column_stack([t, np.sin(t), t * 0 + 84000]), fmt="%.6f", delimiter=",",
        header="t_s,force_n,raw", comments="",
    )  # fmt: skip
    with CsvReplaySource(str(path), path, speed=0) as source:
        batches = read_batches(source)
    assert max(len(b) for b in batches) == 4096
    joined = np.concatenate([b.t for b in batches])
    assert joined.size == n
    np.testing.assert_allclose(joined, t, atol=1e-6)
    assert batches[0].period_s == pytest.approx(1 / 80, abs=1e-6)


def test_bad_csv_line_names_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV.replace("0.0250,,", "0.0250,lots,"))
    with (
        CsvReplaySource(str(path), path, speed=0) as source,
        pytest.raises(ProtocolError, match=r"line 4: force_n is not a number: 'lots'"),
    ):
        source.read(0.1)


def test_bad_csv_line_deep_in_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.csv"
    rows = [f"{i / 80:.4f},1.0" for i in range(100_000)]
    rows[90_000] = "oops"
    path.write_text("t_s,force_n\n" + "\n".join(rows) + "\n")
    with (
        CsvReplaySource(str(path), path, speed=0) as source,
        pytest.raises(ProtocolError, match=r"line 90002: 1 fields"),
    ):
        while True:
            source.read(0.1)


def test_csv_with_an_empty_time_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "not.csv"
    path.write_text("t_s,force_n\n0.0,1\n\n,2\n")
    with (
        CsvReplaySource(str(path), path, speed=0) as source,
        pytest.raises(ProtocolError, match="line 4: t_s must be a number"),
    ):
        source.read(0.1)


def test_csv_without_the_needed_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("time,force\n0,1\n")
    with pytest.raises(ProtocolError, match="no t_s or force_n column"):
        CsvReplaySource(str(path), path)
    path.write_text("")
    with pytest.raises(ProtocolError, match="empty CSV"):
        CsvReplaySource(str(path), path)
    with pytest.raises(SourceOpenError, match="cannot open CSV"):
        CsvReplaySource("replay://x.csv", tmp_path / "missing.csv")
