"""Property: whatever a tool claims about itself, a force past the danger line is never "safe".

Hypothesis builds protocol v1 streams whose claims are wrong in every field, alone and combined
(the sample period, INFO's rate, the device clock, the factory calibration, the capacity, the
saturation flag), over a true force that rises to twice the comfort limit. The real bridge judges
them, arriving at the tool's true pace (80 Hz), into a real SQLite store. Then:

- every sample whose true force is ≥ 1.2 × the limit is DANGER (within the spike filter's one
  sample), or, where the claimed scale cannot be used, UNCALIBRATED — never relaxed, target or
  over;
- with an unusable scale no sample at all is shown as relaxed, target or over;
- the session is still recording (no claim ends it);
- every detectable wrong claim is a recorded ``fault`` event of its kind.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.protocol.binary import BinaryDecoder
from firmware_bridge.protocol.frames import (
    ADC24_MAX,
    FrameType,
    build_body,
    frame_serial,
    samples_payload,
    status_payload,
)
from firmware_bridge.store import Store
from firmware_bridge.zones import Zone

LIMIT_N = 15.0
TRUE_CPN = 10_000.0
TRUE_OFFSET = 50_000.0
RATE_HZ = 80.0
PER_FRAME = 4
PERIOD_US = round(1e6 / RATE_HZ)
DURATION_S = 8.0
EVENT_AT_S = 2.5  # where a clock claim goes wrong: in the middle of the rise


def true_force(t: np.ndarray) -> np.ndarray:
    """0 N, a rise to twice the limit, a hold, a release."""
    up = np.clip((t - 1.5) / 2.0, 0, 1) * 2 * LIMIT_N
    down = np.clip((7.0 - t) / 1.0, 0, 1)
    return np.where(t < 6.0, up, up * down)


@dataclass(frozen=True)
class Claims:
    period_us: int  # what SAMPLES says
    rate_hz: float | None  # what INFO says
    clock: str  # true, back10, forward, restart, wrap_back
    counts_per_n: float | None  # INFO's factory scale (None: not sent)
    capacity_n: float | None
    saturated_flag: bool  # STATUS says saturated during the hold
    rail: bool  # the hold sits at the ADC's rail, without the flag

    @property
    def usable_scale(self) -> bool:
        cpn = self.counts_per_n
        return cpn is not None and math.isfinite(cpn) and 1.0 <= cpn <= 1e7


claims = st.builds(
    Claims,
    period_us=st.sampled_from([PERIOD_US, 1, 0, 100, 65_535]),
    rate_hz=st.sampled_from([RATE_HZ, 0.0, 10_000.0, math.nan, None]),
    clock=st.sampled_from(["true", "back10", "forward", "restart", "wrap_back"]),
    counts_per_n=st.sampled_from([TRUE_CPN, 0.0, math.nan, -TRUE_CPN, 1e12, None]),
    capacity_n=st.sampled_from([196.0, 0.0, math.nan, -5.0, None]),
    saturated_flag=st.booleans(),
    rail=st.booleans(),
)


def _info(c: Claims, seq_device: str = "pg-liar") -> bytes:
    obj: dict[str, object] = {"device_id": seq_device, "firmware": "x", "adc": "hx711"}
    for key, value in (("rate_hz", c.rate_hz), ("capacity_n", c.capacity_n),
                       ("counts_per_n", c.counts_per_n)):  # fmt: skip
        if value is not None:
            obj[key] = value
    if c.counts_per_n is not None:
        obj["offset_counts"] = TRUE_OFFSET
    return json.dumps(obj).encode()  # NaN is written as NaN, as a sloppy firmware would


def _stream(c: Claims) -> list[tuple[float, bytes]]:
    """(arrival time, serial bytes) per frame, at the tool's true pace."""
    out: list[tuple[float, bytes]] = []
    seq = 0
    start_us = 1_000_000 if c.clock == "wrap_back" else 20_000_000

    def frame(ftype: int, t_us: int, payload: bytes, arrive: float) -> None:
        nonlocal seq
        out.append((arrive, frame_serial(build_body(ftype, seq & 0xFFFF, t_us & 0xFFFFFFFF,
                                                    payload))))  # fmt: skip
        seq += 1

    frame(FrameType.INFO, start_us, _info(c), 0.0)
    offset_us = start_us
    jumped = False
    for k in range(int(DURATION_S * RATE_HZ / PER_FRAME)):
        t_true = k * PER_FRAME / RATE_HZ
        arrive = t_true + PER_FRAME / RATE_HZ
        if not jumped and t_true >= EVENT_AT_S and c.clock != "true":
            jumped = True
            if c.clock in ("back10", "wrap_back"):
                offset_us -= 10_000_000
            elif c.clock == "forward":
                offset_us += 3_000_000_000
            else:  # a restart: INFO with seq 0 and a clock from 0
                seq = 0
                offset_us = -round(t_true * 1e6)
                frame(FrameType.INFO, 0, _info(c), arrive)
        if c.saturated_flag and 4.0 <= t_true < 4.05:
            frame(FrameType.STATUS, offset_us + round(t_true * 1e6), status_payload(0, 1), arrive)
        times = t_true + np.arange(PER_FRAME) / RATE_HZ
        raw = np.round(TRUE_OFFSET + true_force(times) * TRUE_CPN)
        if c.rail:
            raw[(times >= 4.0) & (times < 5.5)] = ADC24_MAX
        t_us = offset_us + round(t_true * 1e6)
        frame(FrameType.SAMPLES, t_us, samples_payload(c.period_us, raw.astype(np.int64)), arrive)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=claims)
def test_no_claim_turns_a_force_past_the_danger_line_into_safe(tmp_path_factory, c: Claims) -> None:
    data = tmp_path_factory.mktemp("claims")
    with Store.open(Path(data)) as store:
        bridge = Bridge(store, RecordOptions(source="sim://", limit_n=LIMIT_N))
        bridge.live_timing = True  # the arrival times below are the tool's real pace
        session_id = bridge.start_session("default", None)
        decoder = BinaryDecoder()
        host0 = 1000.0
        for arrive, data_bytes in _stream(c):
            bridge.feed(decoder.feed(data_bytes), host0 + arrive)
        assert bridge.sessions.recorder is not None, "a claim ended the session"
        assert bridge.stop_session() == session_id
        samples = store.load_samples(session_id)
        events = store.session_summary(session_id)["events"]

    raw, zone = samples.raw, samples.zone.astype(int)
    assert raw.size >= 0.95 * DURATION_S * RATE_HZ - 40  # the opening tare window may be held
    at_rail = raw >= ADC24_MAX
    truth = np.where(at_rail, np.inf, (raw - TRUE_OFFSET) / TRUE_CPN)
    past = truth >= 1.2 * LIMIT_N
    late = past & ~np.concatenate(([False], past[:-1]))  # the first sample of each run
    late |= np.concatenate(([False], late[:-1]))  # and the one after (median of three)
    allowed = {int(Zone.DANGER)} | ({int(Zone.UNCALIBRATED)} if not c.usable_scale else set())
    bad = past & ~late & ~np.isin(zone, list(allowed))
    assert not bad.any(), f"{int(bad.sum())} samples past the danger line judged {set(zone[bad])}"
    if not c.usable_scale:
        safe = np.isin(zone, [Zone.RELAXED, Zone.TARGET, Zone.OVER])
        assert not safe.any(), "force from an unusable scale was judged"

    faults = {e["detail"]["kind"] for e in events if e["kind"] == "fault"}
    kinds = {e["kind"] for e in events}
    if c.counts_per_n is not None and not c.usable_scale:
        assert "info" in faults
    if c.capacity_n is not None and not (math.isfinite(c.capacity_n) and c.capacity_n >= 1):
        assert "info" in faults
    if c.rate_hz is not None and not (math.isfinite(c.rate_hz) and c.rate_hz >= 0.5):
        assert "info" in faults
    if c.clock in ("forward", "wrap_back"):
        assert "clock_jump" in faults
    if c.clock in ("back10", "restart"):
        assert "clock_reset" in kinds
    if c.clock != "true":
        assert "gap" in kinds
    wrong_period = c.period_us in (1, 100, 65_535)
    wrong_rate = c.rate_hz == 10_000.0
    if (wrong_period or wrong_rate) and c.clock == "true":
        assert "timing" in faults
