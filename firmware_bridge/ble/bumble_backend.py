"""bleak's backend API over bumble: the same bleak code runs on an HCI transport bumble drives.

bleak 3.x takes ``backend=`` on :class:`bleak.BleakScanner` and :class:`bleak.BleakClient` and
hands extra keyword arguments to the backend's constructor; both classes here need
``bumble_device``: a powered-on :class:`bumble.device.Device` acting as the central (see
:mod:`firmware_bridge.ble.stack`). bumble's own errors are turned into bleak's, so callers handle
one family whatever the stack.

Not done: pairing beyond bumble's default (``pair`` asks bumble to pair with its defaults),
``unpair``, cached reads.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any, cast

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_16, normalize_uuid_32
from bumble import core
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import Characteristic
from bumble.hci import HCI_READ_RSSI_COMMAND, Address

log = logging.getLogger(__name__)

#: The ATT MTU asked for after connecting: 247 carries every protocol v1 body (PROTOCOL.md §9),
#: as platform stacks do by themselves.
WANTED_MTU = 247
DISCONNECT_TIMEOUT_S = 2.0

_AD = AdvertisingData.Type
_UUID_LISTS = {
    _AD.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _AD.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _AD.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _AD.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _AD.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    _AD.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
_SERVICE_DATA = {
    _AD.SERVICE_DATA_16_BIT_UUID: 2,
    _AD.SERVICE_DATA_32_BIT_UUID: 4,
    _AD.SERVICE_DATA_128_BIT_UUID: 16,
}
_PROPERTIES = {
    Characteristic.Properties.BROADCAST: "broadcast",
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
    Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES: "authenticated-signed-writes",
    Characteristic.Properties.EXTENDED_PROPERTIES: "extended-properties",
}


class _QuietRssi(logging.Filter):
    """Controllers that list RSSI reads but refuse them are common: that is not worth a warning
    on the user's terminal (the advertisement's RSSI is shown instead)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("HCI_READ_RSSI_COMMAND failed")


logging.getLogger("bumble.host").addFilter(_QuietRssi())


def uuid_from_le(data: bytes) -> str:
    """bleak's UUID string for a 16-, 32- or 128-bit UUID as it goes on air (little-endian)."""
    if len(data) == 2:
        return normalize_uuid_16(int.from_bytes(data, "little"))
    if len(data) == 4:
        return normalize_uuid_32(int.from_bytes(data, "little"))
    return str(uuid.UUID(bytes=bytes(data[::-1])))


def _uuid_str(value: core.UUID) -> str:
    return uuid_from_le(value.to_bytes())


def address_text(address: Address) -> str:
    """An address as users write it (no bumble type suffix)."""
    return str(address).split("/", 1)[0]


def parse_advertisement(adv: Advertisement) -> AdvertisementData:
    """bleak's view of one (merged) advertisement: name, service UUIDs, data, RSSI."""
    name: str | None = None
    uuids: list[str] = []
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    tx_power: int | None = None
    for ad_type, data in adv.data.ad_structures:
        if ad_type in (_AD.COMPLETE_LOCAL_NAME, _AD.SHORTENED_LOCAL_NAME):
            text = bytes(data).decode("utf-8", "replace")
            if ad_type == _AD.COMPLETE_LOCAL_NAME or name is None:
                name = text
        elif ad_type in _UUID_LISTS:
            size = _UUID_LISTS[ad_type]
            uuids += [
                uuid_from_le(data[i : i + size]) for i in range(0, len(data) - size + 1, size)
            ]
        elif ad_type in _SERVICE_DATA and len(data) >= _SERVICE_DATA[ad_type]:
            size = _SERVICE_DATA[ad_type]
            service_data[uuid_from_le(data[:size])] = bytes(data[size:])
        elif ad_type == _AD.MANUFACTURER_SPECIFIC_DATA and len(data) >= 2:
            manufacturer[int.from_bytes(data[:2], "little")] = bytes(data[2:])
        elif ad_type == _AD.TX_POWER_LEVEL and len(data) == 1:
            tx_power = int.from_bytes(data, "little", signed=True)
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=uuids,
        tx_power=tx_power,
        rssi=adv.rssi,
        platform_data=(adv,),
    )


class BumbleScanner(BaseBleakScanner):
    """Scans through a bumble device (``BleakScanner(backend=BumbleScanner, bumble_device=…)``).

    Args:
        detection_callback: bleak's callback for every advertisement.
        service_uuids: only advertisements listing one of these (bleak's filter).
        scanning_mode: ``active`` (ask for scan responses, where names usually are) or
            ``passive``.
        bumble_device: the powered-on central device.
    """

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bumble_device: Device,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._device = bumble_device
        self._active = scanning_mode != "passive"
        self._scanning = False

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = parse_advertisement(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        key = address_text(adv.address)
        if data.local_name is None and key in self.seen_devices:
            # an advertisement without the name (it came in the scan response): keep the name
            data = data._replace(local_name=self.seen_devices[key][1].local_name)
        device = self.create_or_update_device(key, key, data.local_name, adv.address, data)
        self.call_detection_callbacks(device, data)

    async def start(self) -> None:
        """Start scanning."""
        self.seen_devices = {}
        self._device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        try:
            await self._device.start_scanning(active=self._active, filter_duplicates=False)
        except core.BaseBumbleError as exc:
            self._device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            raise BleakError(f"cannot scan: {exc}") from exc
        self._scanning = True

    async def stop(self) -> None:
        """Stop scanning (quietly if the controller is gone)."""
        self._device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        if not self._scanning:
            return
        self._scanning = False
        try:
            await self._device.stop_scanning()
        except (core.BaseBumbleError, OSError) as exc:
            log.debug("stop scanning: %s", exc)


class BumbleClient(BaseBleakClient):
    """A GATT client through a bumble device (``BleakClient(…, backend=BumbleClient, …)``).

    Args:
        address_or_ble_device: a device found by :class:`BumbleScanner`, or an address.
        bumble_device: the powered-on central device.
        disconnected_callback: called once on a disconnect this client did not ask for (the
            peer left, or the HCI transport was lost).
        timeout: connection timeout in seconds.
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        bumble_device: Device,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._device = bumble_device
        if isinstance(address_or_ble_device, BLEDevice):
            details = address_or_ble_device.details
            self._target: Address = (
                details if isinstance(details, Address) else Address(address_or_ble_device.address)
            )
            self._name = address_or_ble_device.name or self.address
        else:
            self._target = Address(address_or_ble_device)
            self._name = address_or_ble_device
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._leaving = False

    @property
    def name(self) -> str:
        """The advertised name, or the address."""
        return self._name

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 before the exchange)."""
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connection is not None

    @property
    def connection(self) -> Connection | None:
        """The bumble connection (for the link's RSSI reads)."""
        return self._connection

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU, discover every service, characteristic and descriptor.

        Raises:
            BleakError: no connection in time, or the peer refused or left during discovery.
        """
        try:
            connection = await self._device.connect(self._target, timeout=self._timeout)
        except (TimeoutError, core.BaseBumbleError) as exc:
            raise BleakError(f"could not connect to {self._name}: {_why(exc)}") from exc
        self._connection, self._leaving = connection, False
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._device.on(Device.EVENT_FLUSH, self._on_transport_lost)
        self._peer = Peer(connection)
        try:
            try:
                await self._peer.request_mtu(WANTED_MTU)
            except core.BaseBumbleError as exc:  # the default MTU still carries small bodies
                log.info("MTU exchange with %s refused: %s", self._name, exc)
            self.services = await self._discover(self._peer)
            if pair:
                await connection.pair()
        except (TimeoutError, core.BaseBumbleError) as exc:
            await self.disconnect()
            raise BleakError(f"{self._name} did not answer discovery: {_why(exc)}") from exc

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        await peer.discover_services()
        for service in peer.services:
            bleak_service = BleakGATTService(service, service.handle, _uuid_str(service.uuid))
            collection.add_service(bleak_service)
            await service.discover_characteristics()
            for char in service.characteristics:
                props = [name for flag, name in _PROPERTIES.items() if char.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    _uuid_str(char.uuid),
                    cast(Any, props),
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                await char.discover_descriptors()
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, _uuid_str(desc.type), bleak_char)
                    )
        return collection

    def _forget(self) -> None:
        connection, self._connection, self._peer = self._connection, None, None
        if connection is not None:
            connection.remove_listener(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._device.remove_listener(Device.EVENT_FLUSH, self._on_transport_lost)

    def _on_disconnection(self, reason: int) -> None:
        log.info("%s disconnected (reason 0x%02x)", self._name, reason)
        self._lost()

    def _on_transport_lost(self) -> None:
        log.info("the HCI transport under %s was lost", self._name)
        self._lost()

    def _lost(self) -> None:
        unsolicited = not self._leaving and self._connection is not None
        self._forget()
        if unsolicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        """Disconnect (bounded; a dead link is simply forgotten)."""
        connection = self._connection
        self._leaving = True
        self._forget()
        if connection is None:
            return
        try:
            await asyncio.wait_for(connection.disconnect(), DISCONNECT_TIMEOUT_S)
        except (TimeoutError, core.BaseBumbleError, OSError) as exc:
            log.debug("disconnect from %s: %s", self._name, exc)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pair with bumble's default pairing settings."""
        await self._require().connection.pair()

    async def unpair(self) -> None:
        """Not supported by this backend."""
        raise NotImplementedError("unpair is not supported over bumble")

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError("not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic's value."""
        return bytearray(await self._call(self._require().read_value(characteristic.obj)))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a descriptor's value."""
        return bytearray(await self._call(self._require().read_value(descriptor.obj)))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        """Write a characteristic, with or without response."""
        await self._call(
            self._require().write_value(characteristic.obj, bytes(data), with_response=response)
        )

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        """Write a descriptor (with response)."""
        await self._call(
            self._require().write_value(descriptor.obj, bytes(data), with_response=True)
        )

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Subscribe (notifications preferred over indications)."""

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        await self._call(self._require().subscribe(characteristic.obj, on_value))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe."""
        await self._call(self._require().unsubscribe(characteristic.obj))

    async def read_rssi(self) -> int | None:
        """The link's RSSI in dBm, when the controller can tell (None otherwise)."""
        connection = self._connection
        if connection is None or not self._device.host.supports_command(HCI_READ_RSSI_COMMAND):
            return None
        try:
            return int(await asyncio.wait_for(connection.get_rssi(), 1.0))
        except (TimeoutError, core.BaseBumbleError, OSError, AttributeError) as exc:
            log.debug("RSSI not available: %s", exc)
            return None

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except core.BaseBumbleError as exc:
            raise BleakError(f"{self._name}: {_why(exc)}") from exc


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, asyncio.TimeoutError | core.TimeoutError):
        return "no answer in time"
    return text or type(exc).__name__
