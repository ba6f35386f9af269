"""The firmware's C core against the host's Python codec, on random data (hypothesis + ctypes).

Every encoder of the C core must produce byte for byte what ``firmware_bridge.protocol.frames``
builds, its COBS decoder must accept and refuse exactly what the Python ``cobs`` package does,
and what it parses out of a command must be what the host put in.
"""

from __future__ import annotations

import ctypes
import struct
from pathlib import Path

import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import frames as fr
from firmware_bridge.protocol.binary import BinaryDecoder
from tests.firmware.conftest import HostBuild

pytestmark = pytest.mark.component("cmocka")
FAULTS = ("ok", "cobs", "length", "crc", "version", "type", "invalid")
u8p = ctypes.POINTER(ctypes.c_uint8)


class Cmd(ctypes.Structure):
    """pg_cmd_t."""

    _fields_ = (
        ("type", ctypes.c_uint8),
        ("seq", ctypes.c_uint16),
        ("t_us", ctypes.c_uint32),
        ("pattern", ctypes.c_uint8),
        ("raw_threshold", ctypes.c_int32),
        ("direction", ctypes.c_int8),
    )


class Rx(ctypes.Structure):
    """pg_rx_t."""

    _fields_ = (
        ("buf", u8p),
        ("cap", ctypes.c_uint16),
        ("len", ctypes.c_uint16),
        ("overflow", ctypes.c_uint8),
    )


class Core:
    """The C core loaded with ctypes, with Python-friendly wrappers."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        sz, i32, u16, u32 = ctypes.c_size_t, ctypes.c_int32, ctypes.c_uint16, ctypes.c_uint32
        lib.pg_crc16.restype = u16
        lib.pg_crc16.argtypes = (ctypes.c_char_p, sz)
        lib.pg_cobs_encode.restype = sz
        lib.pg_cobs_encode.argtypes = (ctypes.c_char_p, sz, u8p, sz)
        lib.pg_cobs_decode.restype = ctypes.c_int
        lib.pg_cobs_decode.argtypes = (ctypes.c_char_p, sz, u8p, sz)
        lib.pg_body.restype = sz
        lib.pg_body.argtypes = (u8p, sz, ctypes.c_uint8, u16, u32, ctypes.c_char_p, sz)
        lib.pg_samples_body.restype = sz
        lib.pg_samples_body.argtypes = (u8p, sz, u16, u32, u16, ctypes.POINTER(i32), ctypes.c_uint8)
        lib.pg_status_body.restype = sz
        lib.pg_status_body.argtypes = (u8p, sz, u16, u32, u16, ctypes.c_uint8)
        lib.pg_button_body.restype = sz
        lib.pg_button_body.argtypes = (u8p, sz, u16, u32, ctypes.c_bool)
        lib.pg_cmd_parse.restype = ctypes.c_int
        lib.pg_cmd_parse.argtypes = (ctypes.c_char_p, sz, ctypes.POINTER(Cmd))
        lib.pg_body_check.restype = ctypes.c_int
        lib.pg_body_check.argtypes = (ctypes.c_char_p, sz)
        lib.pg_rx_init.argtypes = (ctypes.POINTER(Rx), u8p, u16)
        lib.pg_rx_push.restype = ctypes.c_int
        lib.pg_rx_push.argtypes = (ctypes.POINTER(Rx), ctypes.c_uint8)
        self.lib = lib

    @staticmethod
    def _buf(n: int = 600) -> ctypes.Array[ctypes.c_uint8]:
        return (ctypes.c_uint8 * n)()

    def cobs_encode(self, data: bytes) -> bytes:
        out = self._buf(len(data) + len(data) // 254 + 2)
        n = self.lib.pg_cobs_encode(data, len(data), out, len(out))
        return bytes(out[:n])

    def cobs_decode(self, data: bytes) -> bytes | None:
        out = self._buf(len(data) + 1)
        n = self.lib.pg_cobs_decode(data, len(data), out, len(out))
        return None if n < 0 else bytes(out[:n])

    def body(self, ftype: int, seq: int, t_us: int, payload: bytes) -> bytes:
        out = self._buf(300)
        n = self.lib.pg_body(out, len(out), ftype, seq, t_us, payload, len(payload))
        return bytes(out[:n])

    def samples(self, seq: int, t_us: int, period: int, raw: list[int]) -> bytes:
        out = self._buf(300)
        arr = (ctypes.c_int32 * len(raw))(*raw)
        n = self.lib.pg_samples_body(out, len(out), seq, t_us, period, arr, len(raw))
        return bytes(out[:n])

    def parse(self, body: bytes) -> tuple[str, Cmd]:
        cmd = Cmd()
        fault = self.lib.pg_cmd_parse(body, len(body), ctypes.byref(cmd))
        return FAULTS[fault], cmd

    def receive(self, stream: bytes) -> list[bytes | str]:
        """Bodies (or fault names) the serial receiver cuts out of a stream."""
        buf = self._buf(256)
        rx = Rx()
        self.lib.pg_rx_init(ctypes.byref(rx), buf, len(buf))
        out: list[bytes | str] = []
        for byte in stream:
            n = self.lib.pg_rx_push(ctypes.byref(rx), byte)
            if n > 0:
                out.append(bytes(buf[:n]))
            elif n < 0 and n != -100:
                out.append(FAULTS[-n])
        return out


@pytest.fixture(scope="module")
def core(host_build: HostBuild) -> Core:
    return Core(host_build.libpgcore)


u16s = st.integers(0, 0xFFFF)
u32s = st.integers(0, 0xFFFFFFFF)
i32s = st.integers(-(1 << 31), (1 << 31) - 1)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600))
def test_crc_and_cobs_match_python(core: Core, data: bytes) -> None:
    assert core.lib.pg_crc16(data, len(data)) == fr.crc16(data)
    encoded = core.cobs_encode(data)
    assert encoded == cobs.encode(data)
    assert core.cobs_decode(encoded) == data


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_cobs_decoder_refuses_what_python_refuses(core: Core, data: bytes) -> None:
    try:
        expected: bytes | None = cobs.decode(data)
    except cobs.DecodeError:
        expected = None
    assert core.cobs_decode(data) == expected


@settings(max_examples=200, deadline=None)
@given(ftype=st.integers(0, 255), seq=u16s, t_us=u32s, payload=st.binary(max_size=231))
def test_any_body_matches_build_body(
    core: Core, ftype: int, seq: int, t_us: int, payload: bytes
) -> None:
    assert core.body(ftype, seq, t_us, payload) == fr.build_body(ftype, seq, t_us, payload)


@settings(max_examples=200, deadline=None)
@given(seq=u16s, t_us=u32s, period=u16s, raw=st.lists(i32s, min_size=1, max_size=32))
def test_samples_match_the_python_encoder(
    core: Core, seq: int, t_us: int, period: int, raw: list[int]
) -> None:
    expected = fr.build_body(fr.FrameType.SAMPLES, seq, t_us, fr.samples_payload(period, raw))
    assert core.samples(seq, t_us, period, raw) == expected


@settings(max_examples=100, deadline=None)
@given(seq=u16s, t_us=u32s, battery=u16s, saturated=st.booleans(), fault=st.booleans())
def test_status_and_button_match(
    core: Core, seq: int, t_us: int, battery: int, saturated: bool, fault: bool
) -> None:
    out = core._buf(32)
    flags = (1 if saturated else 0) | (2 if fault else 0)
    n = core.lib.pg_status_body(out, 32, seq, t_us, battery, flags)
    payload = fr.status_payload(battery, saturated, fault)
    assert bytes(out[:n]) == fr.build_body(fr.FrameType.STATUS, seq, t_us, payload)
    n = core.lib.pg_button_body(out, 32, seq, t_us, saturated)
    payload = fr.button_payload(saturated)
    assert bytes(out[:n]) == fr.build_body(fr.FrameType.BUTTON, seq, t_us, payload)


commands = st.one_of(
    st.tuples(st.just(fr.FrameType.HAPTIC), st.integers(0, 255).map(fr.haptic_payload)),
    st.tuples(
        st.just(fr.FrameType.LOCAL_LIMIT),
        st.tuples(i32s, st.sampled_from((-1, 0, 1))).map(lambda a: fr.local_limit_payload(*a)),
    ),
    st.tuples(st.just(fr.FrameType.HELLO), st.just(b"")),
)


@settings(max_examples=300, deadline=None)
@given(command=commands, seq=u16s, t_us=u32s, flip=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_commands_parse_to_what_the_host_sent(
    core: Core, command: tuple[fr.FrameType, bytes], seq: int, t_us: int, flip: int, bit: int
) -> None:
    ftype, payload = command
    body = fr.build_body(ftype, seq, t_us, payload)
    fault, cmd = core.parse(body)
    assert fault == "ok"
    assert (cmd.type, cmd.seq, cmd.t_us) == (ftype, seq, t_us)
    if ftype == fr.FrameType.HAPTIC:
        assert cmd.pattern == payload[0]
    elif ftype == fr.FrameType.LOCAL_LIMIT:
        assert (cmd.raw_threshold, cmd.direction) == struct.unpack("<ib", payload)
    # one flipped bit anywhere: refused, with the fault the host's decoder counts for it
    damaged = bytearray(body)
    damaged[flip % len(body)] ^= 1 << bit
    fault, _ = core.parse(bytes(damaged))
    decoder = BinaryDecoder()
    decoder.feed_body(bytes(damaged))
    counted = [kind for kind, n in decoder.stats.faults.items() if n]
    assert counted == [fault] == ["crc"]


@settings(max_examples=100, deadline=None)
@given(
    bodies=st.lists(
        st.tuples(
            st.sampled_from([0x01, 0x02, 0x03, 0x04, 0x81]), u16s, u32s, st.binary(max_size=60)
        ),
        min_size=1,
        max_size=8,
    ),
    junk=st.lists(st.binary(min_size=1, max_size=40), max_size=8),
)
def test_receiver_cuts_a_noisy_stream_into_the_same_bodies(
    core: Core, bodies: list[tuple[int, int, int, bytes]], junk: list[bytes]
) -> None:
    built = [fr.build_body(*b) for b in bodies]
    stream = b""
    for i, body in enumerate(built):
        if i < len(junk):
            stream += junk[i] + b"\x00"  # line noise, ended by a delimiter
        stream += fr.frame_serial(body)
    got = [
        b
        for b in core.receive(stream)
        if isinstance(b, bytes) and core.lib.pg_body_check(b, len(b)) == 0
    ]
    assert got == built
