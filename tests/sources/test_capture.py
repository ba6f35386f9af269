"""Capture files: what ``record --capture`` writes survives a crash and reads back exactly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from firmware_bridge.errors import ProtocolError, SourceOpenError, StoreError, UsageError
from firmware_bridge.sources.base import Chunk
from firmware_bridge.sources.capture import MAGIC, CaptureWriter, read_capture

CHUNKS = [Chunk(b"\x00\x05abc\x00", 100.0), Chunk(b"", 100.25), Chunk(bytes(range(256)) * 3, 101.5)]


def write(path: Path, chunks: list[Chunk], framing: str = "stream") -> None:
    with CaptureWriter(path, "sim://?seed=2", framing) as writer:
        for chunk in chunks:
            writer.write(chunk)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "cap.bin"
    write(path, CHUNKS)
    header, chunks = read_capture(path)
    assert header["format"] == "pressureguard-capture"
    assert header["version"] == 1
    assert header["source"] == "sim://?seed=2"
    assert header["framing"] == "stream"
    assert header["timed"] is True
    assert header["started_at"].endswith("+00:00")
    got = list(chunks)
    assert [c.data for c in got] == [c.data for c in CHUNKS]
    assert [c.t_host for c in got] == [0.0, 0.25, 1.5]  # seconds since the first chunk


def test_file_layout_is_magic_json_line_then_records(tmp_path: Path) -> None:
    path = tmp_path / "cap.bin"
    write(path, CHUNKS[:1], framing="packet")
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    line, _, records = data[len(MAGIC) :].partition(b"\n")
    assert json.loads(line)["framing"] == "packet"
    assert records == bytes(8) + len(CHUNKS[0].data).to_bytes(4, "little") + CHUNKS[0].data


def test_writer_is_a_capture_hook(tmp_path: Path) -> None:
    path = tmp_path / "hook.bin"
    with CaptureWriter(path, "loop://") as writer:
        hook = writer  # what Source.capture expects: a callable taking a Chunk
        hook(Chunk(b"xy", 5.0))
    assert [c.data for c in read_capture(path)[1]] == [b"xy"]


@pytest.mark.parametrize("cut", [1, 5, 12, 13])
def test_torn_last_record_is_ignored(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "torn.bin"
    write(path, CHUNKS)
    path.write_bytes(path.read_bytes()[: -len(CHUNKS[-1].data) - 12 + cut])
    _, chunks = read_capture(path)
    assert [c.data for c in chunks] == [c.data for c in CHUNKS[:2]]


def test_unclosed_writer_is_flushed_within_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "live.bin"
    writer = CaptureWriter(path, "sim://", flush_interval=0.05)
    try:
        writer.write(Chunk(b"first", 1.0))
        writer.write(Chunk(b"second", 1.1))
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # a recorder killed now must leave both records
            if len(list(read_capture(path)[1])) == 2:
                break
            time.sleep(0.02)
        assert [c.data for c in read_capture(path)[1]] == [b"first", b"second"]
    finally:
        writer.close()
    writer.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        writer.write(Chunk(b"late", 2.0))


def test_plain_raw_dump_is_one_untimed_stream(tmp_path: Path) -> None:
    path = tmp_path / "dump.bin"
    payload = bytes(range(256)) * 40  # 10,240 bytes, as `cat /dev/ttyACM0 > dump.bin` leaves
    path.write_bytes(payload)
    header, chunks = read_capture(path)
    assert header["timed"] is False
    assert header["framing"] == "stream"
    got = list(chunks)
    assert [len(c.data) for c in got] == [4096, 4096, 2048]
    assert b"".join(c.data for c in got) == payload
    assert {c.t_host for c in got} == {0.0}


def test_empty_file_is_an_empty_dump(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    header, chunks = read_capture(path)
    assert header["timed"] is False
    assert list(chunks) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceOpenError, match=r"cannot open capture .*nope\.bin"):
        read_capture(tmp_path / "nope.bin")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"{not json\n", "not valid JSON"),
        (b'{"format": "pressureguard-capture", "version": 2, "framing": "stream"}\n', "version 2"),
        (b'{"format": "other", "version": 1}\n', "does not describe"),
        (b'{"format": "pressureguard-capture", "version": 1, "framing": "x"}\n', "framing"),
        (b'{"format": "pressureguard-capture"', "cut off"),
    ],
)
def test_unreadable_header(tmp_path: Path, header: bytes, message: str) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(MAGIC + header)
    with pytest.raises(ProtocolError, match=message):
        read_capture(path)


def test_writer_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot write capture"):
        CaptureWriter(tmp_path / "no" / "such" / "dir.bin", "sim://")
    with pytest.raises(UsageError, match="framing"):
        CaptureWriter(tmp_path / "x.bin", "sim://", "frames")
