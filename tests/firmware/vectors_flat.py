"""Write ``tests/protocol/vectors.json`` as flat lines for the C test runner (no JSON in C).

One line per vector, fields separated by single spaces, bytes as hex, ``-`` for "none"::

    crc HEX_INPUT CRC_HEX
    frame NAME TYPE BODY SERIAL SEQ T_US <type fields>
        SAMPLES: PERIOD_US N RAW...   INFO: DEVICE_ID FIRMWARE ADC RATE_HZ CAPACITY COUNTS_PER_N
        OFFSET TIP_AREA (JSON number text or -)   BUTTON: 0|1   STATUS: BATTERY_MV FLAGS
        HAPTIC: PATTERN   LOCAL_LIMIT: THRESHOLD DIRECTION   HELLO: (nothing)
    stream NAME SERIAL BODY...
    negative NAME BODY|- SERIAL FAULT

The FAULT of a negative vector is what the tool's parser reports: the host's fault, except that a
tool rejects any intact tool → host body (SAMPLES, INFO, …) as ``type`` before looking inside it.

Usage: ``python3 vectors_flat.py tests/protocol/vectors.json > vectors.txt``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MIN_BODY, MAX_BODY = 10, 241
INFO_OPTIONAL = ("capacity_n", "counts_per_n", "offset_counts", "tip_area_cm2")


def _number(value: Any) -> str:
    return "-" if value is None else json.dumps(value)


def _frame_fields(kind: str, decoded: dict[str, Any]) -> list[str]:
    if kind == "SAMPLES":
        raw = [str(r) for r in decoded["raw"]]
        return [str(decoded["period_us"]), str(len(raw)), *raw]
    if kind == "INFO":
        info = decoded["info"]
        required = [info["device_id"], info["firmware"], info["adc"], str(info["rate_hz"])]
        return required + [_number(info.get(key)) for key in INFO_OPTIONAL]
    if kind == "BUTTON":
        return ["1" if decoded["pressed"] else "0"]
    if kind == "STATUS":
        flags = (1 if decoded["saturated"] else 0) | (2 if decoded["adc_fault"] else 0)
        return [str(decoded["battery_mv"] or 0), str(flags)]
    if kind == "HAPTIC":
        return [str(decoded["pattern"])]
    if kind == "LOCAL_LIMIT":
        return [str(decoded["raw_threshold"]), str(decoded["direction"])]
    return []


def _tool_fault(body_hex: str | None, fault: str) -> str:
    """The fault the tool's parser reports for a body the host rejects with ``fault``."""
    if body_hex is None or fault in ("cobs", "crc", "version"):
        return fault
    body = bytes.fromhex(body_hex)
    intact = MIN_BODY <= len(body) <= MAX_BODY
    return "type" if intact and body[1] < 0x80 else fault


def flatten(vectors: dict[str, Any]) -> list[str]:
    """The flat lines for one vectors.json document."""
    crc = vectors["crc"]
    lines = [f"crc {crc['check_input'].encode().hex()} {crc['check']}"]
    for v in vectors["frames"]:
        d = v["decoded"]
        head = [
            "frame",
            v["name"],
            v["type"],
            v["body"],
            v["serial"],
            str(d["seq"]),
            str(d["t_us"]),
        ]
        lines.append(" ".join(head + _frame_fields(v["type"], d)))
    for s in vectors["streams"]:
        lines.append(" ".join(["stream", s["name"], s["serial"], *s["bodies"]]))
    for n in vectors["negative"]:
        body = n["body"]
        fault = _tool_fault(body, n["fault"])
        lines.append(" ".join(["negative", n["name"], body or "-", n["serial"], fault]))
    return lines


def main(argv: list[str]) -> int:
    """Print the flat form of the vectors file named in argv[1]."""
    vectors = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    sys.stdout.write("\n".join(flatten(vectors)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
