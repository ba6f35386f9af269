"""What the bridge judges against: the comfort limit, the ceilings, and a guided measurement.

Three forces bound what is safe, and this keeps them together so no path forgets one:

- the **comfort limit** of the profile and region (personal, else the shipped default), capped at
  the profile's ceiling (:func:`calibration.limits.resolve_limit`);
- the **profile ceiling** (lowered by precautions): DANGER above it whatever the limit, except
  above a limit a clinician agreed to (``limits set --override-ceiling``, allowed only without
  precautions or sensitive mode);
- the load cell's **overload** (90 % of its rating): always DANGER.

While a guided threshold measurement runs (the dashboard's Limits page), the user presses on
purpose until it starts to hurt: the comfort limit is set aside and force is judged against the
profile ceiling alone, so the tool still buzzes and the screen still warns before harm. When the
measurement ends the comfort limit applies again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace

from calibration.defaults import ENDANGERMENT_SITES, overload_ceiling_n
from calibration.guided import GuidedMeasurement, MeasurementSettings
from calibration.limits import limit_for_tip
from calibration.precautions import ProfileSafety
from calibration.tips import Tip
from firmware_bridge.errors import StoreError, UsageError
from firmware_bridge.live import LiveState
from firmware_bridge.pipeline.signal import SignalPipeline
from firmware_bridge.store import Store
from firmware_bridge.units import parse_region
from firmware_bridge.zones import JudgedSamples

log = logging.getLogger(__name__)


class LimitControl:
    """Keeps the pipeline's limit and DANGER ceiling right, and tells the tool when they change.

    Args:
        store: profiles, limits, and where measurements are kept.
        pipeline: whose judge is set.
        live: the live state (limit, profile and region shown; the measurement's status).
        tell_tool: called after every change (sends LOCAL_LIMIT to the tool).
    """

    def __init__(
        self,
        store: Store,
        pipeline: SignalPipeline,
        live: LiveState,
        tell_tool: Callable[[], None],
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.live = live
        self.tell_tool = tell_tool
        self.limit_n = pipeline.config.limit_n
        self.basis = "not resolved yet"
        self.tip: Tip | None = None  # the tip in use: its limits, and its area for the defaults
        self.measurement: GuidedMeasurement | None = None
        self._settled: GuidedMeasurement | None = None  # a finished one, already stored
        self._overload_n = math.inf
        self._ceiling_n = math.inf

    @property
    def measuring(self) -> bool:
        """Whether a measurement is under way (started and not done)."""
        return self.measurement is not None and not self.measurement.done

    def resolve(self, profile: str, region: str | None, given: float | None = None) -> float:
        """Look up and apply the comfort limit for a profile and region (``given`` wins)."""
        safety = self._safety(profile)
        self.limit_n, self.basis = limit_for_tip(
            self.store, profile, region, given, self.tip, safety=safety
        )
        ceiling = safety.ceiling_n(self.tip.area_cm2 if self.tip is not None else None)
        self._ceiling_n = ceiling if self.limit_n <= ceiling else math.inf
        if not self.measuring:
            self._apply(self.limit_n)
        return self.limit_n

    def set_limit(self, limit_n: float) -> None:
        """A new comfort limit for the running profile and region (a dashboard command)."""
        self.limit_n = limit_n
        if not self.measuring:
            self._apply(limit_n)

    def set_overload(self, capacity_n: float | None) -> None:
        """The connected load cell's rating (from its INFO frame)."""
        self._overload_n = overload_ceiling_n(capacity_n)
        self.pipeline.judge.ceiling_n = min(self._overload_n, self._ceiling_n)

    def _apply(self, limit_n: float) -> None:
        self.pipeline.set_limit(limit_n)
        self.pipeline.judge.ceiling_n = min(self._overload_n, self._ceiling_n)
        self.live.limit_n = limit_n
        self.tell_tool()

    def _safety(self, profile: str) -> ProfileSafety:
        return ProfileSafety.from_settings(self.store.profile_settings(profile))

    # -- the guided threshold measurement ---------------------------------------------------

    def start_measurement(self, settings: MeasurementSettings) -> None:
        """Start a measurement: judged against the profile ceiling until it ends.

        The tool's own tip area is used when the page names no tip.

        Raises:
            UsageError: an endangerment site.
            ValueError: a bad fraction or rest.
        """
        where = parse_region(settings.region)
        if where.slug in ENDANGERMENT_SITES:
            raise UsageError(f"{where} is an endangerment site: do not measure there")
        area = settings.tip_area_cm2 or self.live.tip_area_cm2
        self._ceiling_n = self._safety(settings.profile).ceiling_n(area)
        settings = replace(settings, region=str(where), tip_area_cm2=area)
        self.measurement = GuidedMeasurement(settings, self._ceiling_n)
        self.live.profile, self.live.region = settings.profile, settings.region
        self._apply(self._ceiling_n if math.isfinite(self._ceiling_n) else self.limit_n)
        log.info("threshold measurement started (%s, %s)", settings.profile, where)

    def mark(self, t: float | None) -> None:
        """ "It starts to hurt" at session time ``t`` (the sample the user saw, or the button's).

        Raises:
            UsageError: no measurement.
        """
        if self.measurement is None:
            raise UsageError("no threshold measurement is running")
        self.measurement.mark(t)

    def release(self, preset: float | None) -> None:
        """End the running trial now."""
        if self.measurement is not None:
            self.measurement.release()
            self._progress(preset)

    def cancel(self, preset: float | None) -> None:
        """Stop or dismiss the measurement; the comfort limit applies again."""
        if self.measurement is None:
            return
        self.measurement = None
        self.resolve(self.live.profile or "default", self.live.region, preset)

    def feed(self, judged: JudgedSamples, preset: float | None) -> None:
        """Judged samples for the measurement, if one exists."""
        if self.measurement is not None:
            self.measurement.feed(judged.t_s, judged.force_n, judged.filtered_n)
            self._progress(preset)

    def status(self) -> dict[str, object] | None:
        """The measurement's status for the live state, or None."""
        return self.measurement.status() if self.measurement is not None else None

    def _progress(self, preset: float | None) -> None:
        """Once the measurement is done: store it, and judge against the comfort limit again."""
        measurement = self.measurement
        if measurement is None or not measurement.done or measurement is self._settled:
            return
        self._settled = measurement
        try:
            measurement.save(self.store)
        except StoreError as exc:
            measurement.error = f"the measurement could not be saved: {exc}"
        self.resolve(measurement.profile, measurement.region, preset)
