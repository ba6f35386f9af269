"""What the bridge tells the tool: haptic patterns by zone, the local limit, a haptic test."""

from __future__ import annotations

import time

from calibration.device import DeviceCalibration
from firmware_bridge.protocol.frames import FrameType, Haptic, haptic_payload, local_limit_payload
from firmware_bridge.sources.base import Source
from firmware_bridge.zones import Zone

HAPTIC_TEST_S = 0.5
#: The pre-warning's tick: a short burst of the caution pulse (no new pattern on the wire).
PREWARN_TICK_S = 0.15
HAPTIC_FOR_ZONE = {Zone.OVER: Haptic.CAUTION, Zone.DANGER: Haptic.CONTINUOUS}


class ToolFeedback:
    """Keeps the tool's vibration in step with the zone, and its own local limit up to date."""

    def __init__(self) -> None:
        self.pattern = Haptic.OFF
        self._test_ends = 0.0

    def zone_changed(self, zone: Zone, source: Source | None) -> None:
        """Pulse over the limit, vibrate continuously in danger, stop below.

        On NO SIGNAL the host cannot judge, so it sends nothing: the tool's own LOCAL_LIMIT keeps
        watching.
        """
        pattern = HAPTIC_FOR_ZONE.get(zone, Haptic.OFF)
        if zone == Zone.NO_SIGNAL or pattern == self.pattern:
            return
        self.pattern = pattern
        if source is not None:
            source.send(FrameType.HAPTIC, haptic_payload(pattern))

    def test(self, source: Source | None) -> None:
        """Half a second of the caution pulse, so the user knows what it feels like.

        Raises:
            ValueError: the tool has no command channel (a plain text sketch).
        """
        if source is None or not source.send(FrameType.HAPTIC, haptic_payload(Haptic.CAUTION)):
            raise ValueError("this tool cannot vibrate (no command channel)")
        self._test_ends = time.monotonic() + HAPTIC_TEST_S

    def prewarn(self, source: Source | None) -> None:
        """A short tick of the caution pulse: the limit is near (the zone's own pattern wins)."""
        if self.pattern != Haptic.OFF or source is None:
            return
        if source.send(FrameType.HAPTIC, haptic_payload(Haptic.CAUTION)):
            self._test_ends = time.monotonic() + PREWARN_TICK_S

    def tick(self, now: float, source: Source | None) -> None:
        """End a haptic test or tick: back to what the zone calls for."""
        if self._test_ends and now >= self._test_ends:
            self._test_ends = 0.0
            if source is not None:
                source.send(FrameType.HAPTIC, haptic_payload(self.pattern))

    def off(self, source: Source | None) -> None:
        """Stop vibrating (the bridge is stopping)."""
        if self.pattern != Haptic.OFF and source is not None:
            source.send(FrameType.HAPTIC, haptic_payload(Haptic.OFF))
        self.pattern = Haptic.OFF

    @staticmethod
    def local_limit(
        source: Source | None,
        calibration: DeviceCalibration | None,
        limit_n: float,
        tare_n: float,
    ) -> None:
        """Let the tool buzz by itself past the limit, even if this host stalls."""
        if source is None or calibration is None:
            return
        threshold = calibration.counts_for(limit_n + tare_n)
        direction = 1 if calibration.counts_per_n > 0 else -1
        source.send(FrameType.LOCAL_LIMIT, local_limit_payload(threshold, direction))
