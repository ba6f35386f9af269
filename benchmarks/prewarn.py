"""Issue 10's benchmark: how long before a push past the limit the pre-warning comes.

The simulated tool's massage pattern leans past the comfort limit in about one hold in five
(from 50–95 % of the limit up to 105–135 % in 0.6–1.5 s). An hour of it at 80 Hz is recorded by
the real bridge from a capture at full speed; for every entry into ``over`` from below, the lead
is the time from the pre-warning to that crossing (0 when none came). The simple approach a user
would otherwise have is the zone itself: a warning at the crossing, lead 0 s, which is what the
"unwarned" row counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from firmware_bridge.bridge import Bridge, RecordOptions
from firmware_bridge.pipeline.predict import DEFAULT_LEAD_S, RATE_WINDOW_S
from firmware_bridge.sources.sim_model import SimConfig, SimulatedTool
from firmware_bridge.store import Store
from firmware_bridge.zones import JudgedSamples

DURATION_S = 3600.0
LIMIT_N = 15.0
SEEDS = (1, 2, 3)
#: A crossing is a push when the filtered force rose this much in the second before it.
PUSH_RISE_N = 2.0


def _session(seed: int, workdir: Path) -> tuple[list[dict[str, Any]], JudgedSamples]:
    capture = workdir / f"massage-{seed}.bin"
    tool = SimulatedTool(SimConfig(seed=seed, limit_n=LIMIT_N), keep_truth=False)
    capture.write_bytes(tool.generate(DURATION_S))
    with Store.open(workdir / f"data-{seed}") as store:
        options = RecordOptions(source=f"replay://{capture}?speed=0", limit_n=LIMIT_N)
        session_id = Bridge(store, options).run()
        assert session_id is not None
        events: list[dict[str, Any]] = store.session_summary(session_id)["events"]
        samples = store.load_samples(session_id)
    return events, samples


def _is_push(samples: JudgedSamples, t: float) -> bool:
    """Whether the filtered force rose by at least :data:`PUSH_RISE_N` in the second before ``t``
    (a push), rather than wobbling across the limit while holding near it."""
    window = (samples.t_s >= t - 1.0) & (samples.t_s <= t)
    f = samples.filtered_n[window]
    return bool(f.size) and float(f[-1] - np.nanmin(f)) >= PUSH_RISE_N


def _leads(
    events: list[dict[str, Any]], samples: JudgedSamples
) -> tuple[list[float], int, int, int, int]:
    """Leads of warned pushes, unwarned pushes, wobbles across the limit, pre-warnings, and
    pre-warnings eased off."""
    leads: list[float] = []
    unwarned = wobbles = 0
    crossed_at = {round(e["t_s"], 6): e["detail"]["lead_s"] for e in events
                  if e["kind"] == "prewarn_crossed"}  # fmt: skip
    for e in events:
        if e["kind"] != "zone" or e["detail"].get("to") not in ("over", "danger"):
            continue
        if e["detail"].get("from") not in ("relaxed", "target"):
            continue
        lead = crossed_at.get(round(e["t_s"], 6))
        if not _is_push(samples, e["t_s"]):
            wobbles += 1
        elif lead is None:
            unwarned += 1
        else:
            leads.append(float(lead))
    fired = sum(e["kind"] == "prewarn" for e in events)
    eased = sum(e["kind"] == "prewarn_eased" for e in events)
    return leads, unwarned, wobbles, fired, eased


def run() -> dict[str, Any]:
    """Record the simulated hours and collect the leads."""
    leads: list[float] = []
    unwarned = wobbles = fired = eased = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            got, miss, wobbled, n_fired, n_eased = _leads(*_session(seed, Path(tmp)))
            leads += got
            unwarned += miss
            wobbles += wobbled
            fired += n_fired
            eased += n_eased
    arr = np.asarray(leads)
    return {
        "hours": len(SEEDS) * DURATION_S / 3600,
        "pushes": len(leads) + unwarned,
        "wobbles": wobbles,
        "warned": len(leads),
        "unwarned": unwarned,
        "prewarnings": fired,
        "eased": eased,
        "lead_median_s": float(np.median(arr)) if arr.size else None,
        "lead_worst_s": float(arr.min()) if arr.size else None,
        "lead_best_s": float(arr.max()) if arr.size else None,
        "within_50ms_of_target": int(np.sum(np.abs(arr - DEFAULT_LEAD_S) <= 0.05)),
    }


def markdown(results: dict[str, Any], machine: str) -> str:
    """The report section."""
    r = results

    def s(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f} s"

    return "\n".join(
        [
            "## Pre-warning lead before the limit (issue 10)",
            "",
            machine,
            "",
            f"{r['hours']:g} hours of the simulated tool's massage pattern ({len(SEEDS)} seeds, "
            f"80 Hz, limit {LIMIT_N:g} N) recorded by the real bridge from captures at full "
            "speed. An entry into *over* from below after a rise of at least "
            f"{PUSH_RISE_N:g} N in the second before is a push; other entries are the hold's "
            "tremor wobbling across the limit, counted apart. The lead is the time from "
            f"*Slow down — limit in … s* to the crossing (target {DEFAULT_LEAD_S:g} s). Without "
            "the pre-warning the first warning comes at the crossing (lead 0). "
            "Run: `python -m benchmarks.run prewarn`.",
            "",
            "| pushes past the limit | warned before | lead median | lead worst | lead best | "
            "within ±50 ms of target | unwarned pushes | wobbles across | pre-warnings | of which "
            "eased off |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {r['pushes']} | {r['warned']} | {s(r['lead_median_s'])} | "
            f"{s(r['lead_worst_s'])} | {s(r['lead_best_s'])} | {r['within_50ms_of_target']} | "
            f"{r['unwarned']} | {r['wobbles']} | {r['prewarnings']} | {r['eased']} |",
            "",
            "A push that starts closer to the limit than the lead allows is warned as soon as the "
            f"rise is recognised (a {RATE_WINDOW_S:g} s slope and at least 1 N of rise), so its "
            "lead is shorter; one that starts below half the limit and crosses within the lead is "
            "not predicted (the ramp warning and the zone still apply). Most pre-warnings that "
            "eased off came on the simulated ramps up to a hold at 50–95 % of the limit: at "
            "their rate the limit was under the lead time away when the user levelled off.",
        ]
    )
