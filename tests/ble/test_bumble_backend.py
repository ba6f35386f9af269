"""The project's bleak backend over bumble, in one process on bumble's in-memory link: bleak's
public API scans, connects, discovers, subscribes, writes and sees a disconnect."""

from __future__ import annotations

import asyncio
import struct

from bleak import BleakClient, BleakScanner
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from firmware_bridge.ble.bumble_backend import BumbleClient, BumbleScanner, parse_advertisement
from firmware_bridge.ble.discovery import kind_of, matches
from firmware_bridge.protocol import progressor
from firmware_bridge.protocol.frames import BLE_NOTIFY_UUID, BLE_SERVICE_UUID, BLE_WRITE_UUID


def _device(link: LocalLink, address: str, name: str) -> Device:
    controller = Controller(name, link=link, public_address=address)
    return Device(
        name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller))
    )


def test_advertisements_are_parsed_like_bleak_expects() -> None:
    data = AdvertisingData(
        [
            (AdvertisingData.FLAGS, b"\x06"),
            (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
             UUID(BLE_SERVICE_UUID).to_bytes()),
            (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, b"\x0f\x18"),
            (AdvertisingData.COMPLETE_LOCAL_NAME, b"PressureGuard-3F2A"),
            (AdvertisingData.MANUFACTURER_SPECIFIC_DATA, b"\xff\xff\x01\x02"),
            (AdvertisingData.TX_POWER_LEVEL, b"\xfc"),
        ]
    )  # fmt: skip
    adv = Advertisement(address=Address("F0:01:02:03:04:05"), rssi=-61, data_bytes=bytes(data))
    parsed = parse_advertisement(adv)
    assert parsed.local_name == "PressureGuard-3F2A"
    assert parsed.service_uuids == [BLE_SERVICE_UUID, "0000180f-0000-1000-8000-00805f9b34fb"]
    assert parsed.manufacturer_data == {0xFFFF: b"\x01\x02"}
    assert (parsed.rssi, parsed.tx_power) == (-61, -4)


def test_tools_are_recognised_by_uuid_or_name_prefix_never_by_address_alone() -> None:
    assert kind_of(None, [BLE_SERVICE_UUID.upper()]) == "pressureguard"
    assert kind_of("PressureGuard-1", []) == "pressureguard"
    assert kind_of(None, [progressor.SERVICE_UUID]) == "progressor"
    assert kind_of("Progressor_77", []) == "progressor"
    assert kind_of("Headphones", ["0000180f-0000-1000-8000-00805f9b34fb"]) is None
    assert matches("pressureguard", "PressureGuard-1", "AA:BB", "pressureguard", "")
    assert matches("pressureguard", "PressureGuard-1", "AA:BB", "pressureguard", "aa:bb")
    assert not matches(None, "Headphones", "AA:BB", "pressureguard", "AA:BB")  # address alone
    assert matches(None, "MyClone", "AA:BB", "progressor", "myclone")  # named exactly
    assert not matches("progressor", "Progressor_1", "AA:BB", "pressureguard", "")


def test_bleak_runs_on_bumble_end_to_end() -> None:
    asyncio.run(_bleak_on_bumble())


async def _bleak_on_bumble() -> None:
    link = LocalLink()
    tool = _device(link, "F0:F0:F0:F0:F0:F0", "PressureGuard-T")
    central = _device(link, "F1:F1:F1:F1:F1:F1", "bridge")
    written: list[bytes] = []
    notify = Characteristic(BLE_NOTIFY_UUID, Characteristic.Properties.NOTIFY,
                            Characteristic.READABLE, b"")  # fmt: skip
    write: Characteristic[bytes] = Characteristic(
        BLE_WRITE_UUID,
        Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
        Characteristic.WRITEABLE,
        CharacteristicValue(write=lambda _c, value: written.append(bytes(value))),
    )
    tool.add_service(Service(BLE_SERVICE_UUID, [notify, write]))
    tool.advertising_data = bytes(
        AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"PressureGuard-T")])
    )
    await tool.power_on()
    await central.power_on()
    await tool.start_advertising(auto_restart=False)

    found = await BleakScanner.find_device_by_name(
        "PressureGuard-T", timeout=5, backend=BumbleScanner, bumble_device=central
    )
    assert found is not None and found.name == "PressureGuard-T"
    dropped = asyncio.get_running_loop().create_future()
    client = BleakClient(
        found,
        disconnected_callback=lambda c: dropped.set_result(True),
        backend=BumbleClient,
        bumble_device=central,
    )
    await client.connect()
    assert client.backend_id == "BumbleClient"
    assert client.mtu_size == 247
    assert client.services.get_service(BLE_SERVICE_UUID) is not None
    char = client.services.get_characteristic(BLE_NOTIFY_UUID)
    assert char is not None and char.properties == ["notify"]

    got: list[int] = []
    await client.start_notify(
        BLE_NOTIFY_UUID, lambda _c, data: got.append(struct.unpack("<I", data)[0])
    )
    for i in range(500):
        await tool.notify_subscribers(notify, struct.pack("<I", i))
    for _ in range(100):
        if len(got) == 500:
            break
        await asyncio.sleep(0.01)
    assert got == list(range(500))

    body = bytes(range(141))  # the largest SAMPLES body fits one write at MTU 247
    await client.write_gatt_char(BLE_WRITE_UUID, body, response=True)
    assert written == [body]

    (connection,) = tool.connections.values()
    await connection.disconnect()
    assert await asyncio.wait_for(dropped, 5)
    assert not client.is_connected
