"""``progressor://[NAME]``: a Tindeq Progressor-protocol load cell over Bluetooth LE.

Progressor, Crimpdeq, Hangman and Mito speak it. On connecting the source asks for the device's
id, firmware version and battery voltage, one answer at a time, then starts the weight stream;
closing stops it. The device's kilograms are calibrated force, so every sample carries force in
newtons and is judged at once. It has no motor and no local limit: :meth:`send` answers False
for HAPTIC and LOCAL_LIMIT, and :meth:`link_status` says so for the Live page.
"""

from __future__ import annotations

import logging

from firmware_bridge.ble.link import BleLink, Gatt
from firmware_bridge.protocol import progressor
from firmware_bridge.protocol.frames import FrameType
from firmware_bridge.protocol.progressor import Command, ProgressorDecoder, Reply
from firmware_bridge.readings import DecoderStats, DeviceStatus, Reading
from firmware_bridge.sources.base import LinkStatus, Source
from firmware_bridge.sources.ble import link_facts, open_link

log = logging.getLogger(__name__)

PROGRESSOR_GATT = Gatt(progressor.SERVICE_UUID, progressor.DATA_UUID, progressor.CONTROL_UUID)
#: Asked one at a time on connecting, before the weight stream starts.
ASKED_ON_CONNECT = (Command.GET_PROGRESSOR_ID, Command.GET_APP_VERSION, Command.GET_BATTERY_VOLTAGE)


def _is_answer(value: bytes) -> bool:
    return value[:1] == bytes([progressor.Code.COMMAND_RESPONSE])


class ProgressorSource(Source):
    """Weight samples (kg → N) from a Progressor-protocol device.

    Args:
        url: ``progressor://NAME`` or ``progressor://`` (the first one found).
        hci: a bumble HCI transport, or None for ``PRESSUREGUARD_BLE_HCI`` / the platform stack.

    Raises:
        UsageError: a malformed source or HCI transport string.
        SourceOpenError: no adapter, device not found, busy, refused, or not a Progressor.
    """

    def __init__(self, url: str, hci: str | None = None) -> None:
        self.link: BleLink = open_link(url, "progressor", "progressor", PROGRESSOR_GATT, hci)
        tool = self.link.tool
        super().__init__(url, f"{tool.name or 'Progressor'} ({tool.address}) over BLE")
        self.decoder = ProgressorDecoder()
        self.device_id: str | None = None
        self.firmware: str | None = None
        self._battery_mv: int | None = None
        self.link.is_reply = _is_answer
        for ask in ASKED_ON_CONNECT:
            self.link.request(progressor.command(ask))
        self.link.write(progressor.command(Command.START_WEIGHT_MEAS))

    @property
    def format(self) -> str:
        return "progressor"

    @property
    def stats(self) -> DecoderStats:
        return self.decoder.stats

    @property
    def live_timing(self) -> bool:
        """Notifications arrive in real time (stamped on arrival)."""
        return True

    def read(self, timeout: float) -> list[Reading]:
        out: list[Reading] = []
        item = self.link.read(timeout)
        while item is not None:
            for decoded in self.decoder.feed(item.data, item.t_host, item.request):
                if isinstance(decoded, Reply):
                    self._note(decoded)
                    continue
                if isinstance(decoded, DeviceStatus):
                    self._battery_mv = decoded.battery_mv
                out.append(decoded)
            if out or timeout <= 0:
                break
            item = self.link.read(0.0)  # a reply alone completes nothing: look once more
        return out

    def _note(self, reply: Reply) -> None:
        if reply.what == "id":
            self.device_id = f"progressor-{reply.value}"
        elif reply.what == "version":
            self.firmware = reply.value
        elif reply.what == "low_power":
            log.warning("%s: battery low, the device will switch itself off", self.description)
        log.info("%s: %s %s", self.description, reply.what, reply.value)

    def send(self, frame_type: int, payload: bytes = b"") -> bool:
        """HELLO is answered already (id, version and battery were asked on connecting); HAPTIC
        and LOCAL_LIMIT do not exist on these devices: False."""
        return frame_type == FrameType.HELLO

    def zero_device(self) -> bool:
        """Zero the device itself (its TARE_SCALE: the load on it now reads 0 kg)."""
        self.link.write(progressor.command(Command.TARE_SCALE))
        return True

    def link_status(self) -> LinkStatus:
        facts = link_facts(self.link, haptics=False, battery_mv=self._battery_mv)
        return LinkStatus(
            **{**facts.as_dict(), "device_id": self.device_id, "firmware": self.firmware}
        )

    def close(self) -> None:
        """Stop the weight stream, then disconnect. Idempotent."""
        if not self.link.closed:
            self.link.write(progressor.command(Command.STOP_WEIGHT_MEAS))
        self.link.close()
