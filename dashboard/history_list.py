"""The History page's session list: the filters (profile, region, dates), the table, and which
session is open.

The list reads session summaries only (``Store.list_sessions``: one indexed query, no samples),
so it stays quick with thousands of sessions; it shows at most :data:`MAX_ROWS` and says so when
there are more. The session the user opened is kept in ``st.session_state`` under
:data:`CHOSEN`, apart from any widget, so it survives switching tabs (a widget that is not drawn
in a run loses its state).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import streamlit as st

from dashboard import resources
from firmware_bridge.errors import PressureGuardError, UsageError
from firmware_bridge.readout import force_readout
from firmware_bridge.store import Store

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Sessions listed at most (newest first); more are announced with a way to narrow the list.
MAX_ROWS = 1000
#: Session state: the id of the open session (None: the newest listed).
CHOSEN = "pg_hist_chosen"
#: Session state: the tab shown (the page's ``st.tabs`` key).
TAB_KEY = "pg_hist_tab"
#: The tab a click in the list opens.
SESSION_TAB = "One session"
TABLE_KEY = "pg_hist_table"
#: The address parameter that opens a session: ``/history?session=12``.
LINK_PARAM = "session"
_TABLE_IDS = "pg_hist_table_ids"

ALL_PROFILES = "All profiles"
ALL_REGIONS = "All regions"
BOTH_SIDES = "both sides"

STATUS_WORDS = {"ended": "ended", "recording": "recording now", "recovered": "interrupted"}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list is narrowed to (None: no narrowing).

    Attributes:
        profile: one profile's sessions.
        region: a region (``calf`` includes both sides) or one side (``calf:left``).
        day_from: first local calendar day (inclusive).
        day_to: last local calendar day (inclusive).
    """

    profile: str | None = None
    region: str | None = None
    day_from: date | None = None
    day_to: date | None = None

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set."""
        return any(v is not None for v in (self.profile, self.region, self.day_from, self.day_to))


def profile_names(store: Store) -> list[str]:
    """The store's profile names (empty when they cannot be read)."""
    try:
        return [p["name"] for p in store.list_profiles()]
    except PressureGuardError as exc:
        st.error(f"Cannot read the profiles: {exc}")
        return []


def filter_row(store: Store) -> Filters:
    """The filter widgets in one row; the filters they set."""
    cols = st.columns([2, 3, 2, 2, 2])
    profiles = profile_names(store)
    chosen = cols[0].selectbox("Profile", [ALL_PROFILES, *profiles], key="pg_hist_profile")
    slug = cols[1].selectbox(
        "Body region",
        [ALL_REGIONS, *resources.REGIONS],
        format_func=lambda r: r if r == ALL_REGIONS else resources.region_label(r),
        key="pg_hist_region",
    )
    side = cols[2].selectbox(
        "Side", [BOTH_SIDES, "left", "right"], key="pg_hist_side", disabled=slug == ALL_REGIONS
    )
    day_from = cols[3].date_input("From", value=None, key="pg_hist_from", format="YYYY-MM-DD")
    day_to = cols[4].date_input("To", value=None, key="pg_hist_to", format="YYYY-MM-DD")
    region = None
    if slug != ALL_REGIONS:
        region = resources.region_value(slug, side if side != BOTH_SIDES else "")
    return Filters(
        profile=None if chosen == ALL_PROFILES else chosen,
        region=region,
        day_from=day_from if isinstance(day_from, date) else None,
        day_to=day_to if isinstance(day_to, date) else None,
    )


def load_sessions(store: Store, filters: Filters) -> tuple[list[dict[str, Any]], bool]:
    """The sessions matching the filters, newest first, at most :data:`MAX_ROWS`.

    Returns:
        The summaries, and whether more sessions match than are returned.

    Raises:
        PressureGuardError: the store cannot be read, or the dates are malformed.
    """
    if filters.day_from and filters.day_to and filters.day_from > filters.day_to:
        raise UsageError("the first day comes after the last day")
    rows = store.list_sessions(
        profile=filters.profile,
        region=filters.region,
        day_from=filters.day_from,
        day_to=filters.day_to,
        limit=MAX_ROWS + 1,
    )
    return rows[:MAX_ROWS], len(rows) > MAX_ROWS


def status_words(summary: dict[str, Any], live_session: int | None) -> str:
    """A session's status as the user reads it."""
    if summary["status"] == "recording" and summary["id"] != live_session:
        return "not closed (no bridge is recording it)"
    return STATUS_WORDS.get(summary["status"], summary["status"])


def lost_data_words(summary: dict[str, Any]) -> str:
    """Gaps and lost or damaged frames in a few words; empty when nothing was lost."""
    parts = []
    if summary.get("gaps"):
        parts.append(f"{summary['gaps']} gap{'s' if summary['gaps'] != 1 else ''}")
    if summary.get("dropped_frames"):
        parts.append(f"{summary['dropped_frames']} lost frames")
    if summary.get("bad_frames"):
        parts.append(f"{summary['bad_frames']} damaged frames")
    return ", ".join(parts)


def record_words(summary: dict[str, Any], live_session: int | None) -> str:
    """How complete the recording is: ``complete``, or its status and what was lost."""
    status = status_words(summary, live_session)
    lost = lost_data_words(summary)
    if status == "ended":
        return lost or "complete"
    return f"{status}; {lost}" if lost else status


def pain_words(before: Any, after: Any) -> str:
    """``6 → 3``; a rating not given is ``—``; ``not rated`` when neither was."""
    if before is None and after is None:
        return "not rated"

    def one(value: Any) -> str:
        return "—" if value is None else f"{float(value):g}"

    return f"{one(before)} → {one(after)}"


def sessions_table(
    sessions: list[dict[str, Any]], live_session: int | None = None, unit: str = "N"
) -> pd.DataFrame:
    """The table shown: one row per session, in words and units a user reads.

    Args:
        sessions: ``Store.list_sessions()`` summaries.
        live_session: the session a running bridge is recording, if any.
        unit: the user's unit; one column holds sessions on different tips, so forces are in
            the force unit of its family (kgf under kgf/cm²).
    """
    import pandas as pd  # noqa: PLC0415 - ~0.2 s to import: not before a session's chart

    force = force_readout(unit)

    def number(value: Any) -> float | None:
        return None if value is None else round(force.value(float(value)), force.decimals)

    return pd.DataFrame(
        {
            "Session": [int(s["id"]) for s in sessions],
            "Date": [resources.local_datetime(s["started_at"]) for s in sessions],
            "Profile": [s["profile"] for s in sessions],
            "Body region": [resources.region_label(s["region"]) for s in sessions],
            "Tip": [resources.tip_words(s.get("tip"), s.get("tip_area_cm2")) for s in sessions],
            "Duration": [resources.duration(s["duration_s"]) for s in sessions],
            f"Peak ({force.unit})": [number(s["peak_n"]) for s in sessions],
            f"Limit ({force.unit})": [number(s["limit_n"]) for s in sessions],
            "Time over limit (s)": [round(float(s["time_over_limit_s"]), 1) for s in sessions],
            "Pain": [pain_words(s["pain_before"], s["pain_after"]) for s in sessions],
            "Record": [record_words(s, live_session) for s in sessions],
        }
    )


def columns(unit: str) -> dict[str, Any]:
    """How the table's columns are shown; the force columns in the unit of
    :func:`sessions_table`."""
    force = force_readout(unit)
    number = st.column_config.NumberColumn(format=f"%.{force.decimals}f", width=62)
    return COLUMNS | {f"Peak ({force.unit})": number, f"Limit ({force.unit})": number}


COLUMNS = {
    "Session": st.column_config.NumberColumn(format="#%d", width=60),
    "Date": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", width=125),
    "Body region": st.column_config.TextColumn(width=165),
    "Tip": st.column_config.TextColumn(width=120),
    "Duration": st.column_config.TextColumn(width=60),
    "Time over limit (s)": st.column_config.NumberColumn(
        "Over limit (s)", format="%.1f", width=85, help="Time at or past your comfort limit"
    ),
    "Pain": st.column_config.TextColumn(
        width=70, help="Pain before → after the session (0 = no pain, 10 = worst)"
    ),
    "Record": st.column_config.TextColumn(
        help="complete, or what is missing: gaps (no signal from the tool), lost or damaged "
        "frames, an interrupted or unclosed session"
    ),
}


def choose(session_id: int | None) -> None:
    """Open a session (on the next run, or in a callback before the page is drawn)."""
    st.session_state[CHOSEN] = session_id
    st.session_state.pop("pg_hist_session", None)  # the picker follows on its next run


def remember(session_id: object) -> None:
    """Keep the session a picker shows as the open one (the pickers' change callback)."""
    st.session_state[CHOSEN] = int(session_id) if isinstance(session_id, int) else None


def chosen_id() -> int | None:
    """The id of the session the user opened, if any."""
    value = st.session_state.get(CHOSEN)
    return value if isinstance(value, int) else None


def follow_link() -> None:
    """``/history?session=12`` opens session 12 in the session tab (a link from elsewhere);
    the parameter is then removed from the address, so later runs don't open it again."""
    value = st.query_params.get(LINK_PARAM)
    if value is None:
        return
    del st.query_params[LINK_PARAM]
    try:
        session_id = int(str(value).lstrip("#"))
    except ValueError:
        log.info("ignoring the link to session %r", value)
        return
    choose(session_id)
    st.session_state[TAB_KEY] = SESSION_TAB


def _open_selected() -> None:
    """The list's row-click callback: open that session in the session tab."""
    selection = st.session_state.get(TABLE_KEY, {}).get("selection", {})
    rows = selection.get("rows") or []
    ids = st.session_state.get(_TABLE_IDS) or []
    if rows and 0 <= rows[0] < len(ids):
        choose(int(ids[rows[0]]))
        st.session_state[TAB_KEY] = SESSION_TAB


def list_tab(
    sessions: list[dict[str, Any]], more: bool, filters: Filters, live: int | None, unit: str
) -> None:
    """The sessions table; a click on a row opens that session.

    Args:
        sessions: the listed summaries, newest first.
        more: whether more sessions match than are listed.
        filters: the filters in force (for the words above the table).
        live: the session a running bridge is recording, if any.
        unit: the user's unit.
    """
    count = f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}"
    st.markdown(
        f"**{count}**{' match the filters' if filters.narrowed else ''}, newest first. "
        "Click a row to open that session."
    )
    if more:
        st.warning(
            f"Only the newest {MAX_ROWS} are listed. Choose a profile, region or dates to see "
            "older ones (`pressureguard sessions list` lists them all).",
            icon=":material/filter_list:",
        )
    st.session_state[_TABLE_IDS] = [int(s["id"]) for s in sessions]
    shown = sessions_table(sessions, live, unit)
    if shown["Profile"].nunique() <= 1:
        shown = shown.drop(columns="Profile")  # one person's sessions: no need to say whose
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=columns(unit),
        key=TABLE_KEY,
        on_select=_open_selected,
        selection_mode="single-row",
    )
    st.caption(
        "Over limit: the time spent past your comfort limit. Record: *complete*, or what is "
        "missing — gaps are stretches with no signal from the tool, lost frames went missing on "
        "the way; nothing is filled in for them."
    )
