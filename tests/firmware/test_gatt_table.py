"""One GATT table: the ESP32 firmware serves exactly what ``hardware/PROTOCOL.md`` §9 lists, what
the host's constants (``firmware_bridge.protocol.frames``, ``tests/protocol/vectors.json``) say and
what the BLE tests' virtual tool (``firmware_bridge.ble.peripheral``) serves: the same service and
characteristic UUIDs, the same properties, the same name prefix and the same advertising layout.

The ESP32 build cannot be compiled here (no toolchain offline), so its source is read."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from firmware_bridge.protocol import frames

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_MD = ROOT / "hardware" / "PROTOCOL.md"
SKETCH = ROOT / "hardware" / "firmware" / "pressureguard"
VECTORS = ROOT / "tests" / "protocol" / "vectors.json"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ESP32_PROPERTIES = {
    "PROPERTY_NOTIFY": "NOTIFY",
    "PROPERTY_WRITE": "WRITE",
    "PROPERTY_WRITE_NR": "WRITE WITHOUT RESPONSE",
    "PROPERTY_READ": "READ",
    "PROPERTY_INDICATE": "INDICATE",
}

Table = dict[str, tuple[str, frozenset[str]]]  # role → (uuid, properties)


def protocol_table() -> tuple[Table, str, str]:
    """§9 of PROTOCOL.md: the roles, the name prefix, the service UUID's bytes on air."""
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    section = text[text.index("## 9.") : text.index("## 10.")]
    table: Table = {}
    for label, value in re.findall(r"^\| ([^|]+?) \| `([^`]+)`", section, flags=re.MULTILINE):
        props = re.search(r"\(([A-Z ,]+)\)", label)
        names = frozenset(p.strip() for p in props.group(1).split(",")) if props else frozenset()
        if label == "service":
            table["service"] = (value, frozenset())
        elif label.startswith("tool → host"):
            table["notify"] = (value, names)
        elif label.startswith("host → tool"):
            table["write"] = (value, names)
    prefix = re.search(r"advertised name \| `([A-Za-z]+)`", section)
    on_air = re.search(r"little-endian byte order: `([0-9a-f ]+)`", section)
    assert prefix and on_air, "PROTOCOL.md §9 changed shape"
    return table, prefix.group(1), on_air.group(1).replace(" ", "")


def esp32_table() -> tuple[Table, str, str]:
    """The ESP32 source: its UUID macros, createService/createCharacteristic, advertising."""
    header = (SKETCH / "ble_link.h").read_text(encoding="utf-8")
    source = (SKETCH / "ble_link.cpp").read_text(encoding="utf-8")
    macros = dict(re.findall(r'#define (PG_BLE_\w+) "([^"]+)"', header))
    table: Table = {}
    service = re.search(r"createService\((\w+)\)", source)
    assert service
    table["service"] = (macros[service.group(1)], frozenset())
    for name, props in re.findall(r"createCharacteristic\(\s*(\w+),\s*([^;]+?)\);", source):
        flags = frozenset(ESP32_PROPERTIES[p] for p in re.findall(r"::(PROPERTY_\w+)", props))
        role = "notify" if "NOTIFY" in flags else "write"
        table[role] = (macros[name], flags)
    advertised = re.search(r"advert\.setCompleteServices\(BLEUUID\((\w+)\)\)", source)
    assert advertised and "scan_response.setName(name)" in source
    return table, macros["PG_BLE_NAME_PREFIX"], macros[advertised.group(1)]


def virtual_tool_table() -> tuple[Table, str, bytes, bytes]:
    """The BLE tests' virtual tool (bumble): its service, advertisement and scan response."""
    pytest.importorskip("bumble")
    from firmware_bridge.ble.peripheral import PeripheralOptions, VirtualPeripheral
    from firmware_bridge.sources.sim_model import SimConfig

    tool = VirtualPeripheral(PeripheralOptions(kind="pressureguard", hci="-", config=SimConfig()))
    service, _notify, adv, scan_response = tool._gatt()
    table: Table = {"service": (str(service.uuid).lower(), frozenset())}
    for char in service.characteristics:
        names = frozenset(
            str(flag.name).replace("_", " ")
            for flag in type(char.properties)
            if flag in char.properties
        )
        role = "notify" if "NOTIFY" in names else "write"
        table[role] = (str(char.uuid).lower(), names)
    return table, tool.name, adv, scan_response


def test_esp32_gatt_is_the_protocol_table() -> None:
    doc, doc_prefix, on_air = protocol_table()
    esp, esp_prefix, advertised = esp32_table()
    assert set(doc) == {"service", "notify", "write"}
    assert esp == doc
    assert esp_prefix == doc_prefix == frames.BLE_NAME_PREFIX
    assert advertised == doc["service"][0]
    assert uuid.UUID(advertised).bytes[::-1].hex() == on_air  # 128-bit UUID little-endian on air


def test_host_constants_are_the_protocol_table() -> None:
    doc, prefix, _ = protocol_table()
    ble = json.loads(VECTORS.read_text(encoding="utf-8"))["ble"]
    assert (
        doc["service"][0],
        doc["notify"][0],
        doc["write"][0],
    ) == (frames.BLE_SERVICE_UUID, frames.BLE_NOTIFY_UUID, frames.BLE_WRITE_UUID)
    assert ble == {
        "service_uuid": doc["service"][0],
        "notify_uuid": doc["notify"][0],
        "write_uuid": doc["write"][0],
        "name_prefix": prefix,
    }
    for value, _props in doc.values():
        assert re.fullmatch(UUID_RE, value)


def test_virtual_tool_serves_the_table_the_firmware_serves() -> None:
    esp, prefix, service_uuid = esp32_table()
    table, name, adv, scan_response = virtual_tool_table()
    assert table == esp
    assert name.startswith(prefix)
    # as the firmware advertises: the UUID in the advertisement, the name in the scan response
    assert uuid.UUID(service_uuid).bytes[::-1] in adv
    assert name.encode() in scan_response and name.encode() not in adv
