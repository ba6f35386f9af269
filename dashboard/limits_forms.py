"""The Limits page's forms and tables: whose limits, the safety questions, the limits themselves,
setting one by hand, and the shipped defaults. The guided measurement is in
:mod:`dashboard.ppt_guide`.

Every limit is per profile × body region (with its side) × tool tip, read out in the user's unit
(:mod:`firmware_bridge.readout`); pressure is only shown for a known flat tip
(:func:`calibration.tips.pressure_area`), and nothing is ever saved above the profile's ceiling
from here.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from calibration.defaults import REGION_DEFAULTS_KGF_CM2, default_limit
from calibration.precautions import (
    NORMAL_FRACTION,
    PRECAUTIONS,
    SENSITIVE_FRACTION,
    ProfileSafety,
)
from calibration.tips import TIPS, Tip, pressure_area
from dashboard import resources
from dashboard.views import common
from firmware_bridge.errors import PressureGuardError
from firmware_bridge.readout import (
    DISPLAY_UNITS,
    Readout,
    chosen_unit,
    force_readout,
    paired_units,
    readout,
    table_cells,
)
from firmware_bridge.store import Store
from firmware_bridge.units import KGF_N, REFERENCE_TIP_CM2

log = logging.getLogger(__name__)

NEW_PROFILE = "➕ New profile…"
#: A bridge whose live row is younger than this serves its profile and region (as the CLI's
#: ``limits set`` judges it): a new limit for them is sent to it at once.
LIVE_BRIDGE_S = 2.0
SOURCE_WORDS = {
    "measured": "measured (your pain threshold)",
    "manual": "set by hand",
    "default": "shipped default",
}
#: The tip limits and measurements use when the user does not say: the reference disc.
DEFAULT_TIP = "disc-1cm2"
_ANSWERS = ("No", "Yes")


# -- small shared pieces ---------------------------------------------------------------------------


def tip_of(key: str | None) -> Tip | None:
    """The tip stored under ``key``; None for "any tip" or a key this version does not know."""
    return TIPS.get(key) if key else None


def tip_label(key: str | None) -> str:
    """A tip key in words: ``flat 1 cm² disc (algometer reference)``; None → ``any tip``."""
    tip = tip_of(key)
    if tip is not None:
        return tip.label
    return key or "any tip"


def tip_pressure_area(tip_key: str | None) -> float | None:
    """The area pressure may be shown with for a stored tip key: a known flat tip's, else None."""
    return pressure_area(tip_of(tip_key))


def page_unit(store: Store) -> str:
    """The user's unit (newtons when the setting cannot be read: the page says why)."""
    try:
        return chosen_unit(store)
    except PressureGuardError as exc:
        st.error(f"Cannot read the unit setting, so forces are shown in newtons: {exc}")
        return "N"


def on_reference(unit: str) -> Readout:
    """Forces on the 1 cm² reference tip, as an approximate figure in the user's force unit
    (ceilings and shipped defaults are set as kgf/cm² on that tip)."""
    return force_readout(unit).finer(-1)


def profile_safety(store: Store, profile: str) -> ProfileSafety:
    """The profile's safety answers (the normal profile when none are kept or readable)."""
    try:
        return ProfileSafety.from_settings(store.profile_settings(profile))
    except PressureGuardError as exc:
        st.error(f"Cannot read the profile's safety answers: {exc}")
        return ProfileSafety()


def region_picker(prefix: str, label: str = "Body region") -> str | None:
    """A body region and side; the region string the bridge takes (``calf:left``)."""
    slug = st.selectbox(
        label, resources.REGIONS, format_func=resources.region_label, key=f"{prefix}_region"
    )
    side = st.radio("Side", resources.SIDES, horizontal=True, key=f"{prefix}_side")
    return resources.region_value(slug, side)


def tip_picker(key: str, label: str = "Tool tip") -> str | None:
    """A tip key, or None for "another tip" (area unknown)."""
    options: list[str | None] = [*TIPS, None]
    if key not in st.session_state:
        st.session_state[key] = DEFAULT_TIP
    return st.selectbox(
        label,
        options,
        format_func=lambda k: tip_label(k) if k else "another tip (area unknown)",
        key=key,
    )


def bridge_serves(store: Store, profile: str, region: str) -> bool:
    """Whether a running bridge is serving this profile and region right now."""
    try:
        live = store.get_live()
    except PressureGuardError:
        return False
    if not live or not isinstance(live.get("age_s"), int | float):
        return False
    state = live.get("state") or {}
    fresh = live["age_s"] < max(LIVE_BRIDGE_S, resources.STALE_AFTER_S)
    return fresh and state.get("profile") == profile and state.get("region") == region


def tell_bridge(store: Store, profile: str, region: str, limit_n: float, basis: str) -> bool:
    """Send a new limit to the running bridge when it serves this profile and region.

    Returns:
        Whether it was sent.
    """
    if not bridge_serves(store, profile, region):
        return False
    try:
        store.post_command("limit", {"limit_n": limit_n, "basis": basis})
    except PressureGuardError as exc:
        st.error(f"Saved, but the running bridge could not be told: {exc}")
        return False
    return True


# -- whose limits ----------------------------------------------------------------------------------


def _create_profile(store: Store) -> None:
    name = str(st.session_state.get("pg_lim_new_profile") or "").strip()
    if not name:
        common.flash("error", "Type a name for the new profile first.")
        return
    try:
        store.ensure_profile(name)
    except PressureGuardError as exc:
        common.flash("error", f"Cannot create the profile: {exc}")
        return
    st.session_state["pg_lim_profile"] = name
    common.flash("info", f"Profile {name} created. Please answer its safety questions.")


def profile_picker(store: Store, preferred: str | None) -> str | None:
    """Choose whose limits to see and set (several people may share a tool).

    Args:
        store: the store.
        preferred: the profile to show first (a running measurement's, or the bridge's).

    Returns:
        The profile's name, or None while a new one is being named.
    """
    try:
        names = [p["name"] for p in store.list_profiles()]
    except PressureGuardError as exc:
        st.error(f"Cannot read the profiles: {exc}")
        names = []
    names = names or ["default"]
    if st.session_state.get("pg_lim_profile") not in [*names, NEW_PROFILE]:
        st.session_state["pg_lim_profile"] = preferred if preferred in names else names[0]
    profile = st.selectbox("Whose limits", [*names, NEW_PROFILE], key="pg_lim_profile")
    if profile != NEW_PROFILE:
        return str(profile)
    st.text_input("Name of the new profile", key="pg_lim_new_profile", max_chars=60)
    st.button("Create profile", key="pg_lim_create", on_click=_create_profile, args=(store,))
    return None


def ceiling_line(safety: ProfileSafety, unit: str) -> str:
    """One line on the profile's ceiling and mode."""
    mode = "Sensitive (fibromyalgia) mode is **on**." if safety.sensitive else ""
    answered = (
        f"Safety questions answered on {resources.local_time(safety.answered_at, '%Y-%m-%d')}."
        if safety.answered
        else "**Safety questions not answered yet** (tab *Profile & precautions*)."
    )
    ceiling = on_reference(unit).text(safety.ceiling_n(REFERENCE_TIP_CM2))
    return (
        f"Highest limit allowed: **{safety.ceiling_kgf_cm2:g} kgf/cm²** "
        f"(≈ {ceiling} on a 1 cm² tip). {mode} {answered}"
    )


# -- profile & precautions -------------------------------------------------------------------------


def precautions_form(store: Store, profile: str, safety: ProfileSafety, unit: str) -> None:
    """The safety questions and sensitive mode; saved to the profile's settings."""
    st.markdown(
        "Please answer these questions before you measure or set a limit. A *yes* does not "
        "stop you using the tool, and PressureGuard diagnoses nothing: it tells you what to "
        "check with your clinician and lowers the highest pressure it will let you set."
    )
    answers: dict[str, str | None] = {}
    for item in PRECAUTIONS:
        stored: int | None = None
        if safety.answered:
            stored = 1 if item.key in safety.precautions else 0
        answers[item.key] = st.radio(
            item.question,
            _ANSWERS,
            index=stored,
            horizontal=True,
            key=f"pg_lim_pre_{profile}_{item.key}",
        )
    sensitive = st.toggle(
        "Sensitive (fibromyalgia) mode: propose a gentler limit, "
        f"{SENSITIVE_FRACTION * 100:.0f} % of your threshold",
        value=safety.sensitive,
        key=f"pg_lim_sensitive_{profile}",
    )
    missing = [k for k, v in answers.items() if v is None]
    chosen = ProfileSafety(
        frozenset(k for k, v in answers.items() if v == "Yes"), sensitive, safety.answered_at
    )
    for advice in chosen.advice():
        st.warning(advice, icon=":material/medical_services:")
    st.markdown(
        f"With these answers the highest limit allowed is **{chosen.ceiling_kgf_cm2:g} kgf/cm²** "
        f"(≈ {on_reference(unit).text(chosen.ceiling_n(REFERENCE_TIP_CM2))} on a 1 cm² tip), "
        "and a measured "
        f"threshold proposes **{chosen.default_fraction * 100:.0f} %** of it as your limit."
    )
    if missing:
        st.caption(f"{len(missing)} question(s) still to answer before you can save.")
    if st.button(
        "Save my answers", type="primary", disabled=bool(missing), key="pg_lim_save_safety"
    ):
        now = datetime.now(UTC).isoformat(timespec="seconds")
        answered = ProfileSafety(chosen.precautions, chosen.sensitive, now)
        try:
            store.update_profile_settings(profile, answered.to_settings())
        except PressureGuardError as exc:
            st.error(f"Could not save the answers: {exc}")
            return
        log.info("profile %s: precautions %s, sensitive %s", profile, sorted(chosen.precautions),
                 chosen.sensitive)  # fmt: skip
        common.flash(
            "info",
            f"Saved for {profile}: highest limit {answered.ceiling_kgf_cm2:g} kgf/cm².",
        )
        st.rerun()


# -- my limits -------------------------------------------------------------------------------------


def _limits_frame(rows: list[dict[str, Any]], unit: str) -> pd.DataFrame:
    """Limits as a plain table (text, so it reads the same on screen, aloud and in tests): the
    chosen unit and its companion, pressure only for a known flat tip."""
    first, second = paired_units(unit)
    cells = [table_cells(float(r["limit_n"]), unit, tip_pressure_area(r["tip"])) for r in rows]
    return pd.DataFrame(
        {
            "Body region": [resources.region_label(r["region"]) for r in rows],
            "Tip": [tip_label(r["tip"]) for r in rows],
            f"Limit ({first})": [c[0] for c in cells],
            f"Limit ({second})": [c[1] for c in cells],
            "Where it comes from": [SOURCE_WORDS.get(r["source"], r["source"]) for r in rows],
            "Set on": [resources.local_time(r["set_at"]) for r in rows],
            "Note": [r["note"] or "" for r in rows],
        }
    )


def limits_table(store: Store, profile: str, safety: ProfileSafety, unit: str) -> None:
    """The profile's current limits, those above its ceiling flagged, and their history."""
    try:
        rows = store.current_limits(profile)
    except PressureGuardError as exc:
        st.error(f"Cannot read the limits: {exc}")
        return
    if not rows:
        st.info(
            f"{profile} has no limits of their own yet: every session uses the shipped "
            "conservative default for its body region (tab *Shipped defaults*). Measure your "
            "threshold, or set a limit by hand."
        )
        return
    st.table(_limits_frame(rows, unit), hide_index=True)
    st.caption(
        "Pressure (kPa, kgf/cm²) is shown only for a flat tip of known size; under a knob or a "
        "ball it would be a guess. A region with no limit of its own uses the shipped default."
    )
    for row in rows:
        tip = tip_of(row["tip"])
        ceiling = safety.ceiling_n(tip.area_cm2 if tip else None)
        shown = readout(unit, pressure_area(tip))
        if float(row["limit_n"]) > ceiling + 1e-9:
            st.warning(
                f"{resources.region_label(row['region'])}: {shown.text(float(row['limit_n']))} "
                f"is above {safety.ceiling_words} ({shown.text(ceiling)}), so sessions use "
                f"{shown.text(ceiling)} there."
            )
    keys = [(r["region"], r["tip"]) for r in rows]
    chosen = st.selectbox(
        "History of changes for",
        keys,
        format_func=lambda k: f"{resources.region_label(k[0])} · {tip_label(k[1])}",
        key="pg_lim_history",
    )
    if chosen is None:
        return
    try:
        history = store.limit_history(profile, chosen[0], chosen[1])
    except PressureGuardError as exc:
        st.error(f"Cannot read the history: {exc}")
        return
    st.table(_limits_frame(history, unit).drop(columns=["Body region", "Tip"]), hide_index=True)


# -- set by hand -----------------------------------------------------------------------------------


def input_units(unit: str, pressure_area_cm2: float | None) -> tuple[list[str], str]:
    """The units a limit may be typed in with this tip, and the one offered first.

    N and kgf always, the pressure units only on a flat tip of known area, and the user's own
    unit wherever it can be read out (a pressure unit on any other tip falls back to its force).

    Returns:
        The choices, in :data:`~firmware_bridge.readout.DISPLAY_UNITS` order, and the first.
    """
    first = readout(unit, pressure_area_cm2).unit
    usual = {"N", "kgf", first} | ({"kPa"} if pressure_area_cm2 else set())
    return [u for u in DISPLAY_UNITS if u in usual], first


def manual_form(store: Store, profile: str, safety: ProfileSafety, unit: str) -> None:
    """Set a limit by hand, in the user's unit (or N, kgf, and kPa for a known flat tip); never
    above the ceiling."""
    region = region_picker("pg_lim_s")
    tip_key = tip_picker("pg_lim_s_tip")
    tip = tip_of(tip_key)
    area = tip.area_cm2 if tip else None
    pressure = pressure_area(tip)
    shown = readout(unit, pressure)
    ceiling = safety.ceiling_n(area)
    try:
        current = store.current_limit(profile, region, tip_key) if region else None
    except PressureGuardError:
        current = None
    if current:
        st.caption(
            f"Now: **{shown.text(float(current['limit_n']))}** "
            f"({SOURCE_WORDS.get(current['source'], current['source'])}, "
            f"{resources.local_time(current['set_at'])})."
        )
    units, first = input_units(unit, pressure)
    # offer the user's unit again whenever it (or the tip's flatness) changed, else keep the pick
    if st.session_state.get("pg_lim_s_unit_for") != first or (
        st.session_state.get("pg_lim_s_unit") not in units
    ):
        st.session_state["pg_lim_s_unit"] = first
        st.session_state["pg_lim_s_unit_for"] = first
    left, right = st.columns([2, 1])
    with left:
        value = st.number_input(
            "New comfort limit", min_value=0.0, step=0.5, value=None, key="pg_lim_s_value"
        )
    with right:
        typed_in = str(st.selectbox("Unit", units, key="pg_lim_s_unit"))
    note = st.text_input("Note (optional)", key="pg_lim_s_note", max_chars=200)
    st.caption(
        f"The highest limit {profile} may set with this tip is **{shown.text(ceiling)}** "
        f"({safety.ceiling_words})."
    )
    if not st.button("Save this limit", type="primary", key="pg_lim_s_save"):
        return
    if not safety.answered:
        st.error("Please answer the safety questions first (tab *Profile & precautions*).")
        return
    if region is None or value is None or not math.isfinite(value) or value <= 0:
        st.error("Type a limit above zero first.")
        return
    typed = readout(typed_in, pressure)  # pressure units are offered only with an area
    limit_n = typed.newtons(value)
    if limit_n > ceiling + 1e-9:
        refused = safety.override_refused or (
            "a higher limit needs your clinician's agreement and cannot be set from this page"
        )
        st.error(
            f"**Not saved:** {typed.text(limit_n)} is above {safety.ceiling_words}, which is "
            f"{typed.text(ceiling)} with this tip. Choose {typed.text(ceiling)} or less "
            f"({refused})."
        )
        return
    try:
        store.set_limit(profile, region, limit_n, "manual", tip=tip_key, note=note.strip() or None)
    except PressureGuardError as exc:
        st.error(f"Could not save the limit: {exc}")
        return
    sent = tell_bridge(store, profile, region, limit_n, "your manual limit")
    words = f"Saved: {resources.region_label(region)}, {shown.text(limit_n)}, set by hand."
    common.flash("info", words + (" The running session uses it from now on." if sent else ""))
    st.rerun()


# -- shipped defaults ------------------------------------------------------------------------------


def defaults_section(unit: str) -> None:
    """The shipped defaults with their basis, and what sensitive mode and the answers change."""
    st.markdown(
        "Conservative starting values per body region, used until you have a limit of your own. "
        "They are placeholders to be reviewed with your clinician, and they assume the 1 cm² "
        "reference tip; for larger tips the force is scaled with the area up to 2 cm²."
    )
    defaults = [default_limit(slug) for slug in REGION_DEFAULTS_KGF_CM2]
    force = force_readout(unit)
    st.dataframe(
        pd.DataFrame(
            {
                "Body region": [resources.region_label(s) for s in REGION_DEFAULTS_KGF_CM2],
                "kgf/cm²": list(REGION_DEFAULTS_KGF_CM2.values()),
                f"Limit on 1 cm² ({force.unit})": [
                    round(force.value(d.limit_n), force.decimals) for d in defaults
                ],
                "Basis": [d.basis for d in defaults],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    normal, sensitive = ProfileSafety(), ProfileSafety(sensitive=True)
    st.markdown(
        "**Sensitive (fibromyalgia) mode** changes two things: a measured threshold proposes "
        f"**{sensitive.default_fraction * 100:.0f} %** of it as your limit instead of "
        f"**{NORMAL_FRACTION * 100:.0f} %** (gentle pressure stays below the threshold), and the "
        f"{normal.ceiling_kgf_cm2:g} kgf/cm² ceiling cannot be overridden. The shipped "
        "defaults above stay the same."
    )
    st.markdown("**Precautions** lower the highest limit a profile may have:")
    st.dataframe(
        pd.DataFrame(
            {
                "Question": [p.question for p in PRECAUTIONS],
                "Highest limit if yes (kgf/cm²)": [p.ceiling_kgf_cm2 for p in PRECAUTIONS],
                f"≈ {force.unit} on 1 cm²": [
                    round(force.value(p.ceiling_kgf_cm2 * KGF_N), force.decimals)
                    for p in PRECAUTIONS
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
