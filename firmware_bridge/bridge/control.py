"""Sessions and limits by command: start and stop a session, change the limit, the guided
threshold measurement."""

from __future__ import annotations

import logging

from calibration.guided import MeasurementSettings
from calibration.tips import TOOL_TIP, get_tip
from firmware_bridge.bridge.state import BridgeState
from firmware_bridge.errors import UsageError
from firmware_bridge.zones import SessionEvent

log = logging.getLogger(__name__)


class SessionControl(BridgeState):
    """Bridge part: sessions, limits and the threshold measurement by command."""

    def start_session(
        self,
        profile: str,
        region: str | None,
        pain_before: int | None = None,
        limit_n: float | None = None,
        tip: str | None = None,
    ) -> int:
        """Start recording a session (ending any running one first).

        Args:
            profile: whose session.
            region: where on the body, or None.
            pain_before: the pain rating (0–10) given before, if any.
            limit_n: a limit for this session only (else the profile's for region and tip).
            tip: the tip fitted for this session (a library key; ``""`` or ``"tool"``: the tool's
                own); None keeps the tip in use.

        Raises:
            UsageError: an unknown tip, or a threshold measurement is running.
        """
        if self.limits.measuring:
            raise UsageError("a threshold measurement is running: finish or cancel it first")
        if tip is not None:
            key = None if tip in ("", TOOL_TIP) else get_tip(tip).key
        if self.sessions.recorder is not None:
            self.stop_session()
        self.limits.measurement = None
        if tip is not None:
            self.tip_key = key
            self._use_tip()
        given = limit_n if limit_n is not None else self.options.limit_n  # `run --limit` presets it
        self.limits.resolve(profile, region, given)
        self.pipeline.new_session()
        session_id = self.sessions.begin(
            source=self.options.source,
            profile=profile,
            region=region,
            limit_n=self.limit_n,
            basis=self.limits.basis,
            fmt=self.live.format,
            pain_before=pain_before,
            now_s=self._now_s(),
        )
        self.live.recording, self.live.session_id = True, session_id
        self.live.profile, self.live.region = profile, region
        log.info("recording session %d (%s, %s)", session_id, profile, region or "no region")
        return session_id

    def stop_session(self, pain_after: int | None = None, note: str | None = None) -> int | None:
        """End the session being recorded; returns its id."""
        session_id = self.sessions.end(
            self.pipeline.totals,
            self.live,
            now_s=self._now_s(),
            reason=self.error or "stopped",
            pain_after=pain_after,
            note=note,
        )
        self.live.recording, self.live.session_id = False, None
        return session_id

    def set_limit(self, limit_n: float, basis: str) -> None:
        """Change the comfort limit live (a dashboard command); judged from the next sample."""
        self.limits.set_limit(limit_n)
        detail = {"limit_n": round(limit_n, 4), "basis": basis}
        self._emit(SessionEvent(self._now_s(), "limit", detail))
        if self.sessions.recorder is not None:
            self.sessions.recorder.update(limit_n=limit_n)

    def ppt_start(self, settings: MeasurementSettings) -> None:
        """Start a guided measurement; until it ends, force is judged against the profile ceiling.

        Raises:
            UsageError: a session is recording, or the region is an endangerment site.
            ValueError: a bad fraction or rest.
        """
        if self.sessions.recorder is not None:
            raise UsageError("a session is recording: stop it before measuring your threshold")
        self.limits.start_measurement(settings)
        self._emit(SessionEvent(self._now_s(), "ppt_start", {"region": settings.region}))

    def ppt_mark(self, t: float | None = None) -> None:
        """ "It starts to hurt" from the screen, at the session time of the sample the user saw."""
        self.limits.mark(t)

    def ppt_release(self) -> None:
        """End the running trial now."""
        self.limits.release(self.options.limit_n)

    def ppt_cancel(self) -> None:
        """Stop or dismiss the measurement; the comfort limit applies again."""
        self.limits.cancel(self.options.limit_n)
