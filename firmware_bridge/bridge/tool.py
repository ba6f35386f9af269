"""The bridge's dealings with the tool itself: what it says (INFO, calibration, tip, status,
and the claims that are not believed) and what it is told (haptics, the local limit)."""

from __future__ import annotations

import logging

from calibration.device import MAX_AGE_DAYS, CalibrationStatus, resolve_calibration
from calibration.tips import pressure_area, tip_in_use
from firmware_bridge.bridge.state import BridgeState
from firmware_bridge.bridge.tuning import DEVICE_FORCE, DEVICE_FORCE_WORDS
from firmware_bridge.claims import ClaimFault, checked_info
from firmware_bridge.errors import UsageError
from firmware_bridge.readings import (
    DeviceInfo,
    DeviceStatus,
)
from firmware_bridge.sources.identity import fallback_device_id
from firmware_bridge.zones import SessionEvent, Zone

log = logging.getLogger(__name__)


class ToolReports(BridgeState):
    """Bridge part: INFO, calibration, tip and status in; haptics and the local limit out."""

    def _on_info(self, info: DeviceInfo) -> None:
        info, faults = checked_info(info)
        for fault in faults:
            self._claim_fault(fault)
        previous = self._info
        known = previous is not None and previous.device_id == info.device_id
        self._info = info
        self.timing.claimed_rate_hz = info.rate_hz
        if known:
            assert previous is not None
            if (info.counts_per_n, info.offset_counts) != (previous.counts_per_n,
                                                            previous.offset_counts):  # fmt: skip
                self._calibration_changed_midstream(info)
            return
        self.live.device_id = info.device_id
        self.live.firmware = info.firmware
        self.live.nominal_rate_hz = info.rate_hz
        self.sessions.device_fields(
            device_id=info.device_id, firmware=info.firmware, rate_hz=info.rate_hz
        )
        self._use_tip()
        self.limits.set_overload(info.capacity_n)
        detail = {"device_id": info.device_id, "firmware": info.firmware}
        self._emit(SessionEvent(self._now_s(), "device", detail))
        self._calibrate(info)
        self._flush_waiting(force=True)

    def _calibration_changed_midstream(self, info: DeviceInfo) -> None:
        """The tool sent another factory calibration while connected: which one is right is not
        known, so its counts are not judged (the user's own stored calibration still is)."""
        self._claim_fault(ClaimFault(
            "info", "the tool changed its factory calibration while connected: its counts are "
            "not judged until it is calibrated or reconnected",
        ))  # fmt: skip
        device_id = info.device_id
        stored = self.store.current_calibration(device_id)
        calibration = resolve_calibration(device_id, stored, None, None)
        self.pipeline.set_calibration(calibration)
        self._use_calibration(CalibrationStatus.of(calibration), device_id)

    def _calibrate(self, info: DeviceInfo | None) -> None:
        """Pick the calibration once per device: stored, else factory, else none (uncalibrated).

        A tool that does not say its id is known by :func:`fallback_device_id` (the calibration
        wizard saves under the same name).
        """
        device_id = info.device_id if info else fallback_device_id(self.options.source)
        if device_id == self._calibrated_for:
            return
        self._calibrated_for = device_id
        if info is None:
            self.live.device_id = device_id
            self.sessions.device_fields(device_id=device_id)
        calibration = resolve_calibration(
            device_id,
            self.store.current_calibration(device_id),
            info.counts_per_n if info else None,
            info.offset_counts if info else None,
        )
        self.pipeline.set_calibration(calibration)
        self._use_calibration(CalibrationStatus.of(calibration), device_id)

    def _force_from_tool(self) -> None:
        """The tool sends force itself (text in N, g or kg; a Progressor; a replayed export):
        calibrated by the device, judged at once."""
        if self._calibrated_for == DEVICE_FORCE:
            return
        self._calibrated_for = DEVICE_FORCE
        link = self._source.link_status() if self._source is not None else None
        if link is not None and link.device_id and self._info is None:
            # a tool with no INFO frame (a Progressor) names itself over its own protocol
            self.live.device_id, self.live.firmware = link.device_id, link.firmware
            self.sessions.device_fields(device_id=link.device_id, firmware=link.firmware or "")
        what = DEVICE_FORCE_WORDS.get(self.live.format, DEVICE_FORCE_WORDS["binary"])
        self._use_calibration(CalibrationStatus.from_device(what), self.live.device_id)

    def _use_calibration(self, status: CalibrationStatus, device_id: str | None) -> None:
        """Tell the live view, the session and the tool what the force's calibration is."""
        self.live.calibrated = status.calibrated
        self.live.calibration_source = status.basis
        self.live.calibration_reason = status.reason
        detail = status.as_dict()
        warning = None
        if status.calibration is not None:
            max_age = float(self.store.get_setting("calibration_max_age_days", MAX_AGE_DAYS))
            warning = status.calibration.age_warning(max_age)
        self.live.calibration_warning = warning
        if warning:
            detail["warning"] = warning
            log.warning("%s: %s", device_id, warning)
        self._emit(SessionEvent(self._now_s(), "calibration", detail))
        self.sessions.device_fields(calibration=detail)
        self._send_local_limit()

    def _use_tip(self) -> None:
        """Work with the chosen tip, else the tool's own: its limits, and pressure only when the
        tip is known and flat (the session keeps both)."""
        tool_area = self._info.tip_area_cm2 if self._info else None
        tip = tip_in_use(self.tip_key, tool_area)
        self.live.tool_tip_area_cm2 = tool_area
        self.limits.tip = tip
        self.live.tip = tip.key if tip else None
        self.live.tip_label = tip.label if tip else None
        self.live.tip_area_cm2 = pressure_area(tip)
        self.sessions.device_fields(tip=self.live.tip, tip_area_cm2=self.live.tip_area_cm2)

    def tare(self) -> None:
        """Zero the reading if the tool is unloaded and still (the Zero button).

        The outcome comes a moment later, in the live state's ``tare`` (and as a ``tare`` event).

        Raises:
            UsageError: there is nothing to tare (the reason in words).
        """
        reason = self.pipeline.request_tare()
        if reason is not None and self._source is not None and self._source.zero_device():
            detail = {
                "accepted": True,
                "asked": True,
                "offset_n": 0.0,
                "reason": "zeroed on the tool",
            }
            event = SessionEvent(self._now_s(), "tare", detail)
            self._react(event)
            self._emit(event)
            return
        if reason is not None:
            raise UsageError(reason)
        self.live.taring, self.live.tare = True, None
        log.info("zeroing asked for")

    def reload_calibration(self) -> None:
        """A calibration was saved (the Calibrate page): use it from the next sample."""
        self._calibrated_for = None
        self._calibrate(self._info)

    def _on_status(self, status: DeviceStatus) -> None:
        t = self.timebase.peek(status.t)
        self.live.battery_mv = status.battery_mv
        if status.saturated != self.pipeline.status_saturated:
            self._emit(SessionEvent(t, "saturated", {"active": status.saturated}))
        if status.adc_fault != self.pipeline.status_adc_fault:
            self._emit(SessionEvent(t, "adc_fault", {"active": status.adc_fault}))
        self.pipeline.status_saturated = status.saturated
        self.pipeline.status_adc_fault = status.adc_fault

    def _claim_fault(self, fault: ClaimFault) -> None:
        """A claim of the tool not believed: counted, recorded as a ``fault`` event, shown."""
        log.warning("%s", fault.message)
        self.live.device_faults += 1
        self.live.device_fault = fault.message
        self._emit(
            SessionEvent(self._now_s(), "fault", {"kind": fault.kind, "message": fault.message})
        )

    def _react(self, event: SessionEvent) -> None:
        if event.kind in ("tare", "drift"):
            self.sessions.device_fields(tare_n=self.pipeline.tare_n)
            self._send_local_limit()
        if event.kind == "tare":
            accepted, asked = bool(event.detail.get("accepted")), bool(event.detail.get("asked"))
            if asked:
                self.live.taring = False
                self.live.tare = {**event.detail, "t_s": round(event.t_s, 3)}
            if accepted or not asked:  # the drift is counted afresh from here
                self.live.drift_warning = None
        elif event.kind == "drift":
            self.live.drift_warning = str(event.detail.get("reason") or "the zero moved")
        elif event.kind == "zone":
            self.feedback.zone_changed(Zone.from_label(str(event.detail["to"])), self._source)
        elif event.kind == "prewarn":
            self.feedback.prewarn(self._source)

    def haptic_test(self) -> None:
        """Let the user feel the caution pulse (a dashboard command)."""
        self.feedback.test(self._source)

    def _send_local_limit(self) -> None:
        """The tool buzzes by itself at the limit being judged (the ceiling while measuring)."""
        self.feedback.local_limit(
            self._source, self.pipeline.calibration, self.pipeline.config.limit_n,
            self.pipeline.zero_n,  # the tare plus the tracked drift: the counts the tool sees
        )  # fmt: skip
