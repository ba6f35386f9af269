"""Wire protocol v1 test vectors: ``vectors.json``, ``hardware/PROTOCOL.md`` and the codec agree.

The vectors are built here with the project's encoders (:func:`build_vectors`). To regenerate after
a deliberate protocol change::

    .venv/bin/python tests/protocol/test_vectors.py --write   # rewrites vectors.json
    .venv/bin/python tests/protocol/test_vectors.py --markdown  # prints PROTOCOL.md's tables
"""

from __future__ import annotations

import json
import re
import struct
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cobs import cobs

from firmware_bridge.protocol import frames as fr
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.readings import (
    ButtonEvent,
    ClockReset,
    DeviceInfo,
    DeviceStatus,
    Reading,
    SampleBatch,
)

HERE = Path(__file__).parent
VECTORS = HERE / "vectors.json"
PROTOCOL_MD = HERE.parents[1] / "hardware" / "PROTOCOL.md"

#: BLE GATT identity of PressureGuard firmware (PROTOCOL.md §9, frames.BLE_*).
BLE = {
    "service_uuid": fr.BLE_SERVICE_UUID,
    "notify_uuid": fr.BLE_NOTIFY_UUID,
    "write_uuid": fr.BLE_WRITE_UUID,
    "name_prefix": fr.BLE_NAME_PREFIX,
}
INFO_FIELDS = {
    "device_id": "PG-3F2A9C",
    "firmware": "1.0.0",
    "adc": "HX711",
    "rate_hz": 80,
    "counts_per_n": 2281.5,
    "offset_counts": -84211,
}
#: Every key of PROTOCOL.md §3's INFO table: fits easily in 231 bytes.
INFO_FULL = {
    "device_id": "PG-3F2A9C",
    "firmware": "1.0.0",
    "adc": "HX711",
    "rate_hz": 80,
    "capacity_n": 200,
    "counts_per_n": 2281.5,
    "offset_counts": -84211,
    "tip_area_cm2": 1.0,
}
INFO_MINIMAL = {"device_id": "PG-3F2A9C", "firmware": "1.0.0", "adc": "HX711", "rate_hz": 80}


# -- building -------------------------------------------------------------------------------


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _body(ftype: int, seq: int, t_us: int, payload: bytes = b"", version: int = 1) -> bytes:
    head = fr.HEADER.pack(version, ftype, seq, t_us) + payload
    return head + struct.pack("<H", fr.crc16(head))


def _frame(
    name: str, ftype: fr.FrameType, seq: int, t_us: int, payload: bytes, **decoded: Any
) -> dict[str, Any]:
    body = fr.build_body(ftype, seq, t_us, payload)
    direction = "tool→host" if ftype < 0x80 else "host→tool"
    return {
        "name": name,
        "type": ftype.name,
        "direction": direction,
        "body": body.hex(),
        "serial": fr.frame_serial(body).hex(),
        "decoded": {"seq": seq, "t_us": t_us, **decoded},
    }


def _stream(name: str, bodies: list[bytes], expect: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "bodies": [b.hex() for b in bodies],
        "serial": (fr.DELIMITER + b"".join(fr.frame_serial(b) for b in bodies)).hex(),
        "expect": expect,
    }


def _samples(seq: int, t_us: int, period: int, raw: list[int]) -> bytes:
    return fr.build_body(fr.FrameType.SAMPLES, seq, t_us, fr.samples_payload(period, raw))


def _info_of_size(size: int) -> dict[str, Any]:
    """INFO_FULL plus an unknown ``note`` key padded so that the JSON is exactly ``size`` bytes."""
    pad = size - len(_json({**INFO_FULL, "note": ""}))
    assert pad >= 0
    return {**INFO_FULL, "note": "x" * pad}


def build_vectors() -> dict[str, Any]:
    """Every vector, built with the encoders in :mod:`firmware_bridge.protocol.frames`."""
    T = fr.FrameType  # noqa: N806 - reads like the enum it is
    raw = [-123456, 256, 8388607]  # negative; 0x00000100 has three zero bytes; ADC24_MAX
    frames = [
        _frame(
            "samples",
            T.SAMPLES,
            7,
            1_000_000,
            fr.samples_payload(12_500, raw),
            period_us=12_500,
            raw=raw,
            t_s=[1.0, 1.0125, 1.025],
        ),
        _frame(
            "samples-period-unknown",  # HX711 at 10 SPS: 100 000 µs does not fit in 16 bits
            T.SAMPLES,
            30,
            3_100_000,
            fr.samples_payload(0, [842_113]),
            period_us=0,
            raw=[842_113],
            t_s=[3.1],
        ),
        _frame("info", T.INFO, 0, 1_200, _json(INFO_FIELDS), info=INFO_FIELDS),
        _frame("info-full", T.INFO, 12, 2_500_000, _json(INFO_FULL), info=INFO_FULL),
        _frame("button-pressed", T.BUTTON, 8, 1_030_000, fr.button_payload(True), pressed=True),
        _frame("button-released", T.BUTTON, 9, 1_530_000, fr.button_payload(False), pressed=False),
        _frame(
            "status-saturated",
            T.STATUS,
            10,
            2_000_000,
            fr.status_payload(3712, saturated=True),
            battery_mv=3712,
            saturated=True,
            adc_fault=False,
        ),
        _frame(
            "status-adc-fault",
            T.STATUS,
            11,
            2_000_500,
            fr.status_payload(0, adc_fault=True),
            battery_mv=None,
            saturated=False,
            adc_fault=True,
        ),
        _frame(
            "haptic-caution",
            T.HAPTIC,
            0,
            5_000_000,
            fr.haptic_payload(fr.Haptic.CAUTION),
            pattern=1,
        ),
        _frame(
            "haptic-continuous",
            T.HAPTIC,
            1,
            5_100_000,
            fr.haptic_payload(fr.Haptic.CONTINUOUS),
            pattern=2,
        ),
        _frame(
            "local-limit-above",
            T.LOCAL_LIMIT,
            2,
            5_200_000,
            fr.local_limit_payload(1_234_567, 1),
            raw_threshold=1_234_567,
            direction=1,
        ),
        _frame(
            "local-limit-below",
            T.LOCAL_LIMIT,
            3,
            5_300_000,
            fr.local_limit_payload(-250_000, -1),
            raw_threshold=-250_000,
            direction=-1,
        ),
        _frame("hello", T.HELLO, 4, 5_400_000, b""),
    ]
    wrap = 1 << 32
    streams = [
        _stream(
            "seq-wrap",
            [_samples(65535, 10_000, 12_500, [100]), _samples(0, 22_500, 12_500, [101])],
            {"frames": 2, "lost_frames": 0, "samples_t_s": [0.01, 0.0225], "raw": [100, 101]},
        ),
        _stream(
            "seq-gap-across-wrap",
            [_samples(65534, 10_000, 12_500, [100]), _samples(1, 47_500, 12_500, [103])],
            {"frames": 2, "lost_frames": 2, "samples_t_s": [0.01, 0.0475], "raw": [100, 103]},
        ),
        _stream(
            "t_us-wrap",
            [_samples(20, wrap - 250, 125, [1, 2]), _samples(21, 0, 125, [3, 4])],
            {
                "frames": 2,
                "lost_frames": 0,
                "samples_t_s": [(wrap + d) / 1e6 for d in (-250, -125, 0, 125)],
                "raw": [1, 2, 3, 4],
            },
        ),
        _stream(
            "clock-reset",
            [_samples(500, 600_000_000, 12_500, [5]), _samples(0, 1_000, 12_500, [6])],
            {
                "frames": 2,
                "lost_frames": 0,
                "samples_t_s": [600.0, 0.001],
                "raw": [5, 6],
                "clock_reset_t_s": 0.001,
            },
        ),
        _stream(
            # Restart after 50 min of uptime: the clock step looks like a forward wrap, but the
            # power-up INFO's seq 0 (not after 65535) shows the restart.
            "restart-info-seq0",
            [
                _samples(500, 3_000_000_000, 12_500, [7]),
                fr.build_body(T.INFO, 0, 300_000, _json(INFO_MINIMAL)),
                _samples(1, 310_000, 12_500, [8]),
            ],
            {
                "frames": 3,
                "lost_frames": 0,
                "samples_t_s": [3000.0, 0.31],
                "raw": [7, 8],
                "clock_reset_t_s": 0.3,
            },
        ),
    ]
    good = _samples(7, 1_000_000, 12_500, raw)
    bad_crc = good[:-1] + bytes([good[-1] ^ 0xFF])
    bad_n = T.SAMPLES, 12, 0, struct.pack("<HB", 12_500, 3) + struct.pack("<2i", 1, 2)
    negatives = [
        {
            "name": "bad-crc",
            "body": bad_crc.hex(),
            "serial": fr.frame_serial(bad_crc).hex(),
            "fault": "crc",
        },
        {"name": "bad-cobs", "body": None, "serial": "05010200", "fault": "cobs"},
        {
            "name": "too-short",
            "body": (short := bytes(range(1, 10))).hex(),
            "serial": fr.frame_serial(short).hex(),
            "fault": "length",
        },
        {
            "name": "samples-n-mismatch",
            "body": (b := _body(*bad_n)).hex(),
            "serial": fr.frame_serial(b).hex(),
            "fault": "length",
        },
        {
            "name": "info-too-long",
            "body": (b := _body(T.INFO, 1, 0, _json(_info_of_size(fr.MAX_INFO_PAYLOAD + 1)))).hex(),
            "serial": fr.frame_serial(b).hex(),
            "fault": "length",
        },
        {
            "name": "unknown-type",
            "body": (b := _body(0x7F, 13, 0)).hex(),
            "serial": fr.frame_serial(b).hex(),
            "fault": "type",
        },
        {
            "name": "bad-version",
            "body": (b := _body(T.BUTTON, 14, 0, b"\x01", version=2)).hex(),
            "serial": fr.frame_serial(b).hex(),
            "fault": "version",
        },
        {
            "name": "info-no-device-id",
            "body": (b := _body(T.INFO, 15, 0, b'{"firmware":"1.0.0"}')).hex(),
            "serial": fr.frame_serial(b).hex(),
            "fault": "invalid",
        },
    ]
    return {
        "protocol_version": fr.VERSION,
        "crc": {"algorithm": "CRC-16/CCITT-FALSE", "check_input": "123456789", "check": "29b1"},
        "ble": BLE,
        "frames": frames,
        "streams": streams,
        "negative": negatives,
    }


def markdown_tables(vectors: dict[str, Any]) -> str:
    """The vector tables as they appear in PROTOCOL.md."""

    def values(v: dict[str, Any]) -> str:
        return ", ".join(f"{k}={json.dumps(x, separators=(',', ':'))}" for k, x in v.items())

    rows = ["| name | type | decoded | body (hex) | serial (hex) |", "|---|---|---|---|---|"]
    for v in vectors["frames"]:
        rows.append(
            f"| `{v['name']}` | {v['type']} | {values(v['decoded'])} "
            f"| `{v['body']}` | `{v['serial']}` |"
        )
    rows += ["", "| name | serial stream (hex) | expected |", "|---|---|---|"]
    for s in vectors["streams"]:
        rows.append(f"| `{s['name']}` | `{s['serial']}` | {values(s['expect'])} |")
    rows += ["", "| name | body (hex) | serial (hex) | fault |", "|---|---|---|---|"]
    for n in vectors["negative"]:
        body = f"`{n['body']}`" if n["body"] else "—"
        rows.append(f"| `{n['name']}` | {body} | `{n['serial']}` | `{n['fault']}` |")
    return "\n".join(rows)


# -- helpers --------------------------------------------------------------------------------


def _load() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def _crc_bitwise(data: bytes) -> int:
    """CRC-16/CCITT-FALSE written out bit by bit, independent of ``binascii``."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _decode_all(serial: bytes | None = None, bodies: list[bytes] | None = None):
    dec = BinaryDecoder()
    out: list[Reading] = []
    if serial is not None:
        out += dec.feed(serial, 0.0)
    for body in bodies or []:
        out += dec.feed_body(body, 0.0)
    return dec, out


def _check_tool_frame(v: dict[str, Any], out: list[Reading]) -> None:
    d = v["decoded"]
    assert len(out) == 1, out
    r = out[0]
    if v["type"] == "SAMPLES":
        assert isinstance(r, SampleBatch)
        assert r.raw.tolist() == d["raw"]
        np.testing.assert_allclose(r.t, d["t_s"], rtol=0, atol=1e-9)
        # period_us = 0 is "unknown": no nominal period, not 0 s.
        assert r.period_s == (pytest.approx(d["period_us"] / 1e6) if d["period_us"] else None)
        assert r.device_clock and r.force_n is None
    elif v["type"] == "INFO":
        assert r == DeviceInfo.from_json(json.dumps(d["info"]))
        assert isinstance(r, DeviceInfo) and r.device_id == d["info"]["device_id"]
    elif v["type"] == "BUTTON":
        assert r == ButtonEvent(t=d["t_us"] / 1e6, pressed=d["pressed"])
    elif v["type"] == "STATUS":
        assert r == DeviceStatus(
            t=d["t_us"] / 1e6,
            battery_mv=d["battery_mv"],
            saturated=d["saturated"],
            adc_fault=d["adc_fault"],
        )
    else:  # pragma: no cover
        raise AssertionError(v["type"])


def _parse_command(body: bytes) -> dict[str, Any]:
    """Reference parser for host → tool bodies, as firmware would do it."""
    assert struct.unpack_from("<H", body, len(body) - 2)[0] == _crc_bitwise(body[:-2])
    version, ftype, seq, t_us = struct.unpack_from("<BBHI", body)
    payload = body[8:-2]
    assert version == 1
    out: dict[str, Any] = {"seq": seq, "t_us": t_us}
    if ftype == 0x81:
        (out["pattern"],) = struct.unpack("<B", payload)
    elif ftype == 0x82:
        out["raw_threshold"], out["direction"] = struct.unpack("<ib", payload)
    else:
        assert ftype == 0x83 and payload == b""
    return out


# -- tests ----------------------------------------------------------------------------------


def test_vectors_json_matches_the_encoders() -> None:
    assert _load() == json.loads(json.dumps(build_vectors()))


def test_crc_check_value() -> None:
    assert fr.crc16(b"123456789") == 0x29B1 == _crc_bitwise(b"123456789")
    assert _load()["crc"]["check"] == "29b1"


@pytest.mark.parametrize("form", ["serial", "body"])
def test_frames_decode_to_documented_values(form: str) -> None:
    for v in _load()["frames"]:
        body = bytes.fromhex(v["body"])
        assert cobs.decode(bytes.fromhex(v["serial"])[:-1]) == body
        assert _crc_bitwise(body[:-2]) == struct.unpack("<H", body[-2:])[0]
        if form == "serial":
            dec, out = _decode_all(serial=bytes.fromhex(v["serial"]))
        else:
            dec, out = _decode_all(bodies=[body])
        if v["direction"] == "tool→host":
            _check_tool_frame(v, out)
            assert dec.stats.frames == 1 and dec.stats.bad_frames == 0
        else:
            # A host never accepts its own commands (e.g. echoed by loop://): counted as 'type'.
            assert out == [] and dec.stats.faults["type"] == 1
            assert _parse_command(body) == v["decoded"]


def test_streams_decode_to_documented_values() -> None:
    for s in _load()["streams"]:
        e = s["expect"]
        bodies = [bytes.fromhex(b) for b in s["bodies"]]
        for dec, out in (
            _decode_all(serial=bytes.fromhex(s["serial"])),
            _decode_all(bodies=bodies),
        ):
            batches = [r for r in out if isinstance(r, SampleBatch)]
            t = np.concatenate([b.t for b in batches])
            np.testing.assert_allclose(t, e["samples_t_s"], rtol=0, atol=1e-9)
            assert np.concatenate([b.raw for b in batches]).tolist() == e["raw"]
            assert dec.stats.frames == e["frames"]
            assert dec.stats.lost_frames == e["lost_frames"]
            resets = [r for r in out if isinstance(r, ClockReset)]
            if "clock_reset_t_s" in e:
                assert resets == [ClockReset(t=e["clock_reset_t_s"])]
                assert out.index(resets[0]) == 1  # between the two segments
            else:
                assert resets == []


@pytest.mark.parametrize("form", ["serial", "body"])
def test_negative_vectors_count_their_fault(form: str) -> None:
    for n in _load()["negative"]:
        if form == "body" and n["body"] is None:
            continue
        if form == "serial":  # the tool's 0x00 at power-up has already synchronised the host
            dec, out = _decode_all(serial=b"\x00" + bytes.fromhex(n["serial"]))
        else:
            dec, out = _decode_all(bodies=[bytes.fromhex(n["body"])])
        assert out == [], n["name"]
        expected = {k: int(k == n["fault"]) for k in dec.stats.faults}
        assert dec.stats.faults == expected, n["name"]
        assert dec.stats.frames == 0


def test_negative_vectors_do_not_disturb_the_next_frame() -> None:
    good = bytes.fromhex(
        next(v for v in _load()["frames"] if v["name"] == "button-pressed")["serial"]
    )
    for n in _load()["negative"]:
        _, out = _decode_all(serial=b"\x00" + bytes.fromhex(n["serial"]) + good)
        assert [type(r) for r in out] == [ButtonEvent], n["name"]


def _markdown_rows(text: str) -> dict[str, list[str]]:
    section = text.split("<!-- vectors:begin -->", 1)[1].split("<!-- vectors:end -->", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([^`]+)` \|(.*)\|$", line.strip())
        if match:
            assert match.group(1) not in rows, f"duplicate vector {match.group(1)}"
            rows[match.group(1)] = [c.strip() for c in match.group(2).split("|")]
    return rows


def test_protocol_md_agrees_with_vectors_json() -> None:
    vectors = _load()
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    assert markdown_tables(vectors) in text, "PROTOCOL.md tables drifted: regenerate them"
    rows = _markdown_rows(text)
    names = [v["name"] for group in ("frames", "streams", "negative") for v in vectors[group]]
    assert sorted(rows) == sorted(names)
    code = re.compile(r"`([0-9a-f]*)`")
    for v in vectors["frames"]:
        assert code.findall(" ".join(rows[v["name"]][2:])) == [v["body"], v["serial"]]
    for s in vectors["streams"]:
        assert code.findall(rows[s["name"]][0]) == [s["serial"]]
    for n in vectors["negative"]:
        cells = rows[n["name"]]
        assert code.findall(cells[1]) == [n["serial"]] and cells[2] == f"`{n['fault']}`"
        assert code.findall(cells[0]) == ([n["body"]] if n["body"] else [])
    assert "0x29B1" in text


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}", 1)[1].split("\n## ", 1)[0]


def test_ble_constants_agree_with_protocol_md_and_vectors_json() -> None:
    assert _load()["ble"] == {
        "service_uuid": fr.BLE_SERVICE_UUID,
        "notify_uuid": fr.BLE_NOTIFY_UUID,
        "write_uuid": fr.BLE_WRITE_UUID,
        "name_prefix": fr.BLE_NAME_PREFIX,
    }
    table: dict[str, list[str]] = {}
    for line in _section(PROTOCOL_MD.read_text(encoding="utf-8"), "9. Bluetooth").splitlines():
        if line.startswith("| ") and not line.startswith("| item"):
            item, value = (c.strip() for c in line.strip("|").split("|"))
            table[item.split(" (")[0]] = re.findall(r"`([^`]+)`", value)
    assert table["service"] == [fr.BLE_SERVICE_UUID]
    assert table["tool → host characteristic"] == [fr.BLE_NOTIFY_UUID]
    assert table["host → tool characteristic"] == [fr.BLE_WRITE_UUID]
    name = table["advertised name"]
    assert name[0] == fr.BLE_NAME_PREFIX and name[-1] == fr.BLE_NAME_PREFIX
    assert all(n.startswith(fr.BLE_NAME_PREFIX) for n in name)
    on_air = " ".join(f"{b:02x}" for b in uuid.UUID(fr.BLE_SERVICE_UUID).bytes[::-1])
    assert f"`{on_air}`" in PROTOCOL_MD.read_text(encoding="utf-8")


def test_size_limits_match_protocol_md() -> None:
    assert fr.MAX_SAMPLES_BODY == 141 == 13 + 4 * fr.MAX_SAMPLES_PER_FRAME
    assert fr.MAX_INFO_PAYLOAD == 231 and fr.MAX_INFO_BODY == 241
    assert fr.MAX_BODY == 241 == max(fr.MAX_SAMPLES_BODY, fr.MAX_INFO_BODY)
    assert fr.MAX_INFO_BODY + 3 <= 247  # one INFO per notification at ATT MTU 247
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    for stated in ("141 bytes", "241 bytes", "231 bytes", "MTU ≥ 144", "244"):
        assert stated in text, stated
    prose = re.sub(r"<!-- vectors:begin -->.*<!-- vectors:end -->", "", text, flags=re.S)
    assert "131" not in prose and "143" not in prose  # the old limits


def _fault(body: bytes) -> tuple[list[Reading], dict[str, int]]:
    dec, out = _decode_all(bodies=[body])
    return out, {k: v for k, v in dec.stats.faults.items() if v}


def test_length_limits_are_per_type() -> None:
    T = fr.FrameType  # noqa: N806
    for size, fault in ((fr.MAX_INFO_PAYLOAD, {}), (fr.MAX_INFO_PAYLOAD + 1, {"length": 1})):
        body = fr.build_body(T.INFO, 3, 0, _json(_info_of_size(size)))
        out, faults = _fault(body)
        assert faults == fault and len(out) == (0 if fault else 1), size
    full = _samples(1, 0, 1000, list(range(fr.MAX_SAMPLES_PER_FRAME)))
    assert len(full) == fr.MAX_SAMPLES_BODY and _fault(full)[1] == {}
    n33 = struct.pack("<HB", 1000, 33) + bytes(4 * 33)  # 145 bytes: under MAX_BODY, over SAMPLES
    assert _fault(_body(T.SAMPLES, 1, 0, n33))[1] == {"length": 1}
    # BUTTON and STATUS have fixed sizes even though MAX_BODY is larger.
    assert _fault(_body(T.BUTTON, 1, 0, b"\x01\x00"))[1] == {"length": 1}
    assert _fault(_body(T.STATUS, 1, 0, bytes(4)))[1] == {"length": 1}
    # A 200-byte host → tool echo is a type fault, as at any size.
    assert _fault(_body(T.HAPTIC, 1, 0, bytes(190)))[1] == {"type": 1}


if __name__ == "__main__":
    if "--write" in sys.argv:
        VECTORS.write_text(json.dumps(build_vectors(), indent=2) + "\n", encoding="utf-8")
    if "--markdown" in sys.argv:
        print(markdown_tables(build_vectors()))
