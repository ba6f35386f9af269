"""``pressureguard ble-sim``: a virtual BLE tool on a bumble HCI transport.

It advertises like the real thing (PROTOCOL.md §9 for ours, the Progressor service for the
other kind), serves its model's notifications to whoever subscribed, and answers writes. Its
clock starts when the process starts and keeps running across link drops, as a tool's does: a
host that reconnects finds the session's gap on the tool's clock. If the HCI transport goes away
(the controller restarted) it waits for it and advertises again.

With ``log_path`` every notification sent (``tx``), every write received (``rx``) and every
connection event is written as one JSON line, so tests can compare what arrived with what was
sent. Runs on the caller's asyncio loop (the CLI's ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from firmware_bridge.ble.virtual_tools import Heard, PressureGuardModel, ProgressorModel
from firmware_bridge.errors import SourceOpenError, UsageError
from firmware_bridge.protocol import frames, progressor
from firmware_bridge.sources.sim_model import SimConfig

log = logging.getLogger(__name__)

SimKind = Literal["pressureguard", "progressor"]
#: Longest sleep of the serving loop (it also notices a stop or a lost transport this often).
MAX_SLEEP_S = 0.05
RETRY_S = 0.2
#: Fast advertising, as a tool waiting for its host does (bumble's default is 1 s).
ADVERTISING_INTERVAL_MS = 100.0
ADVERTISING_SWAP_S = 0.25


@dataclass(frozen=True, slots=True)
class PeripheralOptions:
    """What to serve and where.

    Attributes:
        kind: ``pressureguard`` (our GATT) or ``progressor``.
        hci: the bumble HCI transport, e.g. ``tcp-client:127.0.0.1:9001``.
        config: the simulator's configuration (seed, rate, pattern, clock start …).
        per_packet: Progressor samples per notification.
        name: the advertised name (default from the kind and seed).
        log_path: where to write the JSON-lines log, if anywhere.
        duration_s: stop after this many seconds.
    """

    kind: SimKind
    hci: str
    config: SimConfig
    per_packet: int = 2
    name: str | None = None
    log_path: Path | None = None
    duration_s: float | None = None


class VirtualPeripheral:
    """Serves one virtual tool until :meth:`stop` (or the duration) ends it."""

    def __init__(
        self, options: PeripheralOptions, announce: Callable[[str], None] = log.warning
    ) -> None:
        self.options = options
        self.announce = announce
        seed = options.config.seed
        self.model: PressureGuardModel | ProgressorModel
        if options.kind == "pressureguard":
            self.model = PressureGuardModel(options.config)
            default_name = f"{frames.BLE_NAME_PREFIX}-{seed % 0x10000:04X}"
        else:
            self.model = ProgressorModel(options.config, options.per_packet)
            default_name = f"{progressor.NAME_PREFIX}_{seed % 10000:04d}"
        self.name = options.name or default_name
        kind_byte = 1 if options.kind == "pressureguard" else 2
        raw = (0xF0 << 40) | (kind_byte << 32) | (seed & 0xFFFFFFFF)
        self.address = ":".join(f"{b:02X}" for b in raw.to_bytes(6, "big"))
        self.sent = 0
        self._log: IO[str] | None = None
        self._stop = asyncio.Event()
        self._t0 = 0.0
        self._subscribers: set[Any] = set()
        self._too_big_warned = False
        self._alternate = b""
        self._advertised = False

    # -- public ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """End :meth:`run` soon (safe from a signal handler on the loop's thread)."""
        self._stop.set()

    async def run(self) -> None:
        """Open the transport (retrying after a loss), advertise and serve until stopped.

        Raises:
            UsageError: a malformed HCI transport string.
            SourceOpenError: the transport cannot be opened, or the tool cannot start on it, the
                first time.
        """
        loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        if self.options.log_path is not None:
            self._log = self.options.log_path.open("a", encoding="utf-8", buffering=1)
        try:
            first = True
            while not self._done():
                transport = await self._open(first)
                first = False
                if transport is None:
                    break
                try:
                    await self._serve(transport)
                except Exception as exc:  # bumble's timeouts and HCI errors from a dying controller
                    if not self._advertised:
                        raise SourceOpenError(
                            f"the controller at {self.options.hci} did not start: {exc!r}"
                        ) from exc
                    # A controller that vanishes while the tool powers on or starts advertising
                    # is the same loss as one that vanishes later: wait for it, as a tool would.
                    self._event("hci_lost", reason=f"{type(exc).__name__}: {exc}")
                    self.announce(f"the controller at {self.options.hci} failed: {exc!r}; again")
                    await asyncio.sleep(RETRY_S)
                finally:
                    try:
                        await asyncio.wait_for(transport.close(), 1.0)
                    except Exception as exc:  # a transport already gone cannot close cleanly
                        log.debug("closing the transport: %s", exc)
        finally:
            if self._log is not None:
                self._log.close()

    # -- transport and GATT -----------------------------------------------------------------------

    def _device_s(self) -> float:
        return asyncio.get_running_loop().time() - self._t0

    def _done(self) -> bool:
        duration = self.options.duration_s
        return self._stop.is_set() or (duration is not None and self._device_s() >= duration)

    async def _open(self, first: bool) -> Any:
        from bumble.transport import open_transport  # noqa: PLC0415
        from bumble.transport.common import TransportSpecError  # noqa: PLC0415

        spec = self.options.hci
        while not self._done():
            try:
                return await asyncio.wait_for(open_transport(spec), 5.0)
            except (TransportSpecError, ValueError) as exc:
                raise UsageError(f"bad --ble-hci transport {spec!r}: {exc}") from exc
            except Exception as exc:
                if first:
                    raise SourceOpenError(f"cannot open the controller at {spec}: {exc}") from exc
                log.debug("controller at %s not back yet: %s", spec, exc)
            await asyncio.sleep(RETRY_S)
        return None

    def _gatt(self) -> tuple[Any, Any, bytes, bytes]:
        from bumble.core import UUID, AdvertisingData  # noqa: PLC0415
        from bumble.gatt import Characteristic, CharacteristicValue, Service  # noqa: PLC0415

        if self.options.kind == "pressureguard":
            service_uuid, notify_uuid, write_uuid = (
                frames.BLE_SERVICE_UUID,
                frames.BLE_NOTIFY_UUID,
                frames.BLE_WRITE_UUID,
            )
        else:
            service_uuid, notify_uuid, write_uuid = (
                progressor.SERVICE_UUID,
                progressor.DATA_UUID,
                progressor.CONTROL_UUID,
            )
        notify = Characteristic(
            notify_uuid, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        write: Characteristic[bytes] = Characteristic(
            write_uuid,
            Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_write),
        )
        notify.on(Characteristic.EVENT_SUBSCRIPTION, self._on_subscription)
        flags = (AdvertisingData.FLAGS, bytes([0x06]))
        uuids = (
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            UUID(service_uuid).to_bytes(),
        )
        name = (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode())
        # Ours: the UUID in the advertisement, the name in the scan response (§9).
        first, second = (uuids, name) if self.options.kind == "pressureguard" else (name, uuids)
        adv = bytes(AdvertisingData([flags, first]))
        scan_response = bytes(AdvertisingData([second]))
        self._alternate = bytes(AdvertisingData([flags, second]))
        return Service(service_uuid, [notify, write]), notify, adv, scan_response

    async def _serve(self, transport: Any) -> None:
        from bumble.device import Connection, Device  # noqa: PLC0415
        from bumble.hci import Address  # noqa: PLC0415

        device = Device.with_hci(self.name, Address(self.address), transport.source, transport.sink)
        service, notify, adv, scan_response = self._gatt()
        device.add_service(service)
        device.advertising_data = adv
        device.scan_response_data = scan_response

        def on_connection(connection: Connection) -> None:
            self._event("connected", peer=str(connection.peer_address))

            def on_disconnection(reason: int) -> None:
                self._subscribers.discard(connection)
                self._event("disconnected", reason=reason)

            connection.on(Connection.EVENT_DISCONNECTION, on_disconnection)

        device.on(Device.EVENT_CONNECTION, on_connection)
        await asyncio.wait_for(device.power_on(), 5.0)
        await device.start_advertising(
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )
        swapping = asyncio.get_running_loop().create_task(self._swap_advertising(device, adv))
        self._advertised = True
        self._event("advertising", name=self.name, address=self.address)
        self.announce(f"{self.name} ({self.address}) advertising on {self.options.hci}")
        terminated: asyncio.Future[None] = transport.source.terminated
        self._subscribers.clear()
        while not self._done() and not terminated.done():
            now = self._device_s()
            for value in self.model.due(now):
                await self._notify(device, notify, value, now)
            wait = self.model.next_due_s() - self._device_s()
            await asyncio.sleep(min(MAX_SLEEP_S, max(0.0, wait)))
        swapping.cancel()
        if terminated.done():
            self._event("hci_lost")
            self.announce(f"the controller at {self.options.hci} went away; waiting for it")

    async def _swap_advertising(self, device: Any, adv: bytes) -> None:
        """Advertise the scan response's content too, every other period.

        bumble's virtual controller answers a scan request with the advertising data, not the
        scan response, so a central on it would never hear what the scan response holds (our
        name, §9). A real central merges both kinds of advertisement by address either way.
        """
        payloads, turn = (adv, self._alternate), 0
        while True:
            await asyncio.sleep(ADVERTISING_SWAP_S)
            adv_set = getattr(device, "legacy_advertising_set", None)
            if adv_set is None:
                return  # a controller without extended advertising commands: leave it be
            turn ^= 1
            try:
                await adv_set.set_advertising_data(payloads[turn])
            except Exception as exc:  # advertising stopped meanwhile (a connection): try later
                log.debug("advertising data not changed: %s", exc)

    async def _notify(self, device: Any, notify: Any, value: bytes, now: float) -> None:
        if not self._subscribers:
            return  # nobody listens: the tool's radio drops it, as real firmware does
        mtu = min((int(c.att_mtu) for c in self._subscribers), default=23)
        if len(value) > mtu - 3:
            if not self._too_big_warned:
                log.warning("%d-byte value does not fit MTU %d: not sent", len(value), mtu)
                self._too_big_warned = True
            return
        try:
            await device.notify_subscribers(notify, value)
        except Exception as exc:  # a link dropping under a notification
            log.debug("notify failed: %s", exc)
            return
        self.sent += 1
        # host clock too: a benchmark on this machine times notification → the bridge's verdict
        self._event("tx", t=round(now, 6), mono=round(time.monotonic(), 6), data=value.hex())

    def _on_subscription(self, bearer: Any, notify_enabled: bool, indicate: bool) -> None:
        connection = getattr(bearer, "connection", bearer)
        if notify_enabled:
            self._subscribers.add(connection)
            self.model.subscribed()
        else:
            self._subscribers.discard(connection)
        self._event("subscribed" if notify_enabled else "unsubscribed")

    def _on_write(self, _connection: Any, value: bytes) -> None:
        heard: Heard = self.model.heard(bytes(value), self._device_s())
        self._event("rx", **heard.as_dict())
        log.info("heard %s (%s)", bytes(value).hex(), "ok" if heard.ok else "ignored")

    def _event(self, ev: str, **detail: Any) -> None:
        if self._log is not None:
            self._log.write(json.dumps({"ev": ev, **detail}) + "\n")
