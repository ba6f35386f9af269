"""The History page with AppTest, on a real store in a temporary PRESSUREGUARD_HOME: the list and
its filters, one session (chart, stats, editing, deleting, files), importing, comparing, trends.

The session chart is a components-v2 element: AppTest shows it as a ``bidi_component`` whose
mount data can be read; it draws in the browser (tests/e2e/test_history.py). AppTest runs no
JavaScript, so the chart's report that its curve is drawn (after which the session tab shows the
rest) is given by hand: ``page(chart_drawn=...)``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import MakeLive
from dashboard_helpers import PAGES, judged
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard import history_exchange, history_list, history_session
from firmware_bridge.store import Store
from review import stats_cache
from review.stats import session_stats
from review.trends import CAVEATS

TAB = history_list.TAB_KEY


def page(tab: str | None = None, *, chart_drawn: bool = True) -> AppTest:
    """The History page; ``chart_drawn``: as if a session chart had drawn its curve already in
    this browser session (its report, which AppTest cannot run)."""
    at = AppTest.from_file(str(PAGES / "history.py"), default_timeout=30)
    if tab is not None:
        at.session_state[TAB] = tab
    at.session_state[history_session.CHART_DRAWN] = chart_drawn
    return at


def texts(at: AppTest) -> str:
    """Everything the page says, in one string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def recorded(
    store: Store,
    *,
    profile: str = "default",
    region: str | None = "calf:left",
    started_at: datetime | None = None,
    seconds: float = 95.0,
    **fields: Any,
) -> int:
    """A finished session at 80 Hz: force 10–22 N against a 20 N limit (so it goes over)."""
    sid = store.begin_session(
        source="sim://", profile=profile, region=region, limit_n=20.0, started_at=started_at
    )
    t = np.arange(0, seconds, 0.0125)
    store.append_samples(sid, judged(t, 10 + 12 * np.sin(t / 5) ** 2))
    if fields:
        store.update_session(sid, **fields)
    store.set_counters(sid, {"time_over_limit_s": 12.25})
    store.end_session(sid)
    return sid


def table(at: AppTest) -> Any:
    return at.dataframe(key=history_list.TABLE_KEY).value


def frame(at: AppTest, column: str) -> Any:
    """The (first) table shown with this column."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a column {column!r}")


def charts(at: AppTest) -> list[dict[str, Any]]:
    """The session charts mounted on the page (their mount data)."""
    return [json.loads(e.proto.json) for e in at.main if e.type == "bidi_component"]


# -- the list -------------------------------------------------------------------------------------


def test_the_list_shows_each_session_in_words(store: Store) -> None:
    first = recorded(store, pain_before=6, pain_after=3, note="good")
    second = recorded(store, profile="bo", region="forearm")
    at = page().run()
    assert not at.exception
    shown = table(at)
    assert list(shown["Session"]) == [second, first]  # newest first
    row = shown.set_index("Session").loc[first]
    assert row["Body region"] == "Calf (left)"
    assert row["Duration"] == "1:35"
    assert row["Peak (N)"] == pytest.approx(22.0, abs=0.05)
    assert row["Limit (N)"] == 20.0
    assert row["Time over limit (s)"] == pytest.approx(12.2, abs=0.06)
    assert row["Pain"] == "6 → 3"
    assert row["Record"] == "complete"
    assert shown.set_index("Session").loc[second, "Pain"] == "not rated"
    assert "2 sessions" in texts(at)


def test_the_filters_narrow_the_list(store: Store) -> None:
    now = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
    old = recorded(store, profile="anna", region="calf:left", started_at=now - timedelta(days=10))
    right = recorded(store, profile="anna", region="calf:right", started_at=now - timedelta(days=3))
    arm = recorded(store, profile="anna", region="forearm", started_at=now - timedelta(days=2))
    bo = recorded(store, profile="bo", region="calf:left", started_at=now - timedelta(days=1))
    at = page().run()
    assert list(table(at)["Session"]) == [bo, arm, right, old]

    at.selectbox(key="pg_hist_profile").select("anna").run()
    assert list(table(at)["Session"]) == [arm, right, old]
    assert "3 sessions** match the filters" in texts(at)

    at.selectbox(key="pg_hist_region").select("calf").run()
    assert list(table(at)["Session"]) == [right, old]  # both sides
    at.selectbox(key="pg_hist_side").select("left").run()
    assert list(table(at)["Session"]) == [old]

    at.selectbox(key="pg_hist_side").select(history_list.BOTH_SIDES).run()
    at.date_input(key="pg_hist_from").set_value((now - timedelta(days=5)).date()).run()
    assert list(table(at)["Session"]) == [right]
    at.selectbox(key="pg_hist_profile").select(history_list.ALL_PROFILES).run()
    assert list(table(at)["Session"]) == [bo, right]
    at.date_input(key="pg_hist_to").set_value((now - timedelta(days=2)).date()).run()
    assert list(table(at)["Session"]) == [right]

    at.date_input(key="pg_hist_to").set_value((now - timedelta(days=20)).date()).run()
    assert "first day comes after the last day" in texts(at)


def test_the_list_is_capped_with_a_clear_message(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_list, "MAX_ROWS", 3)
    ids = [store.begin_session(source="sim://", profile="default", region=None, limit_n=None)]
    ids += [
        store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
        for _ in range(4)
    ]
    for sid in ids:
        store.end_session(sid)
    at = page().run()
    assert list(table(at)["Session"]) == ids[::-1][:3]
    assert "Only the newest 3 are listed" in texts(at)


def test_a_thousand_sessions_are_all_listed(store: Store) -> None:
    """How fast is measured by ``make bench`` (benchmarks/review.py), not asserted here."""
    for _ in range(1000):
        sid = store.begin_session(source="sim://", profile="default", region="calf", limit_n=20.0)
        store.end_session(sid)
    at = page().run()
    assert not at.exception
    assert len(table(at)) == 1000


def test_open_and_orphaned_sessions_are_told_apart(
    store: Store, set_live: MakeLive, fresh: None
) -> None:
    orphan = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    current = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    set_live(current)
    at = page().run()
    shown = table(at).set_index("Session")
    assert shown.loc[current, "Record"] == "recording now"
    assert shown.loc[orphan, "Record"].startswith("not closed")
    assert pd.isna(shown.loc[orphan, "Peak (N)"])


def test_lost_data_is_shown_in_the_list(store: Store) -> None:
    sid = recorded(store)
    store.set_counters(sid, {"dropped_frames": 14, "bad_frames": 2, "time_over_limit_s": 1.0})
    store.commit()
    at = page().run()
    assert table(at).iloc[0]["Record"] == "14 lost frames, 2 damaged frames"


def test_no_sessions_yet(store: Store) -> None:
    at = page().run()
    assert not at.exception
    assert "No sessions yet" in texts(at)


# -- one session ----------------------------------------------------------------------------------


def test_one_session_mounts_its_chart_and_tells_its_numbers(store: Store) -> None:
    older = recorded(store)
    newest = recorded(store, region="forearm")
    at = page(history_list.SESSION_TAB).run()
    assert not at.exception
    assert at.selectbox(key="pg_hist_session").value == newest  # the newest by default
    at.selectbox(key="pg_hist_session").select(older).run()
    (chart,) = charts(at)
    assert (chart["session"], chart["compare"]) == (older, None)
    assert chart["url"] == "/api/curve"
    said = texts(at)
    assert "This session lasted 1:35." in said
    assert "You went past your limit" in said
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Peak"] == "22.0 N"
    assert metrics["Sample rate"] == "80.0 Hz"
    assert metrics["Gaps (no signal)"] == "0"
    zones = frame(at, "Zone")
    assert "Over your limit (100–120 %)" in list(zones["Zone"])
    assert at.session_state[history_list.CHOSEN] == older


def test_the_curve_comes_first_and_the_rest_once_it_is_drawn(store: Store) -> None:
    """A browser session's first chart gets the tab to itself until it has drawn its curve (the
    browser would otherwise load the code of every element below it first)."""
    sid = recorded(store)
    at = page(history_list.SESSION_TAB, chart_drawn=False).run()
    assert not at.exception
    (chart,) = charts(at)
    assert chart["session"] == sid and chart["report"] is True
    assert "follow the curve" in texts(at)
    assert not at.metric and not at.get("download_button") and not at.text_area
    at.session_state[history_session.CHART_DRAWN] = True  # what the chart's report does
    at.run()
    assert "This session lasted 1:35." in texts(at)
    assert at.metric and at.get("download_button") and at.text_area
    assert "follow the curve" not in texts(at)


def test_the_rest_is_one_click_away_should_the_chart_never_report(store: Store) -> None:
    recorded(store)
    at = page(history_list.SESSION_TAB, chart_drawn=False).run()
    at.button(key="pg_hist_show_rest").click().run()
    assert "This session lasted 1:35." in texts(at) and at.metric


def test_forces_read_in_the_users_unit_and_pressure_only_on_a_flat_tip(store: Store) -> None:
    knob = recorded(store, tip="knob")  # rounded: no pressure area is kept
    flat = recorded(store, region="forearm", tip="disc-2cm2", tip_area_cm2=2.0)
    store.set_setting("display_unit", "kPa")
    at = page().run()
    shown = table(at).set_index("Session")
    assert shown.loc[knob, "Tip"] == "cane knob (Thera Cane type)"
    assert shown.loc[flat, "Tip"] == "flat 2 cm² algometer tip"
    assert shown.loc[flat, "Limit (N)"] == 20.0  # one column, many tips: the force of the family

    at = page(history_list.SESSION_TAB).run()
    at.selectbox(key="pg_hist_session").select(flat).run()
    said = texts(at)
    assert "flat 2 cm² algometer tip" in said and "comfort limit 100 kPa (20.0 N)" in said
    assert {m.label: m.value for m in at.metric}["Peak"] == "110 kPa (22.0 N)"
    (chart,) = charts(at)
    assert (chart["readout"]["unit"], chart["readout"]["per_newton"]) == ("kPa", 5.0)
    at.selectbox(key="pg_hist_session").select(knob).run()
    assert "comfort limit 20.0 N" in texts(at)  # never kPa under a knob
    assert {m.label: m.value for m in at.metric}["Peak"] == "22.0 N"
    assert charts(at)[0]["readout"]["unit"] == "N"  # the chart's axis too

    store.set_setting("display_unit", "kgf")
    at = page().run()
    assert table(at).set_index("Session").loc[knob, "Limit (kgf)"] == pytest.approx(2.04)


def test_the_numbers_come_from_the_kept_stats(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = recorded(store)
    store.wait_for_compaction(timeout=60)  # summed up in the background as the session ended
    kept = store.stored_stats(sid)
    assert kept is not None
    fresh = session_stats(store, sid)
    with monkeypatch.context() as patch:
        patch.setattr(stats_cache, "sample_totals", lambda *a, **k: pytest.fail("samples read"))
        at = page(history_list.SESSION_TAB).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Peak"] == "22.0 N"
    assert charts(at)[0]["readout"]["unit"] == "N"  # the chart's axis too
    # A session whose stats are not kept (yet) is summed up on the page and kept for next time.
    store.update_session(sid, limit_n=fresh.limit_n)  # the limit given again clears them
    assert store.stored_stats(sid) is None
    page(history_list.SESSION_TAB).run()
    assert store.stored_stats(sid) == kept


def test_gaps_and_lost_frames_are_said_out_loud(store: Store) -> None:
    sid = store.begin_session(source="sim://", profile="default", region="calf", limit_n=20.0)
    t = np.concatenate([np.arange(0, 30, 0.0125), np.arange(40, 60, 0.0125)])  # 10 s lost
    store.append_samples(sid, judged(t, np.full(t.size, 12.0)))
    store.set_counters(sid, {"dropped_frames": 7})
    store.end_session(sid)
    store.commit()
    at = page(history_list.SESSION_TAB).run()
    said = texts(at)
    assert "The signal was lost once, 10.0 s in all" in said
    assert "7 frames from the tool went missing" in said
    assert {m.label: m.value for m in at.metric}["Gaps (no signal)"] == "1 (10.0 s)"


def test_a_session_without_samples_says_so(store: Store) -> None:
    sid = store.begin_session(source="sim://", profile="default", region=None, limit_n=None)
    store.end_session(sid)
    at = page(history_list.SESSION_TAB).run()
    assert not at.exception
    said = texts(at)
    assert "Nothing was recorded in this session." in said
    assert "No comfort limit was in force" in said
    assert {m.label: m.value for m in at.metric}["Peak"] == "—"


def test_an_interrupted_session_says_so(store: Store) -> None:
    sid = recorded(store)
    store._finish(sid, status="recovered", ended_at="2026-01-01T00:00:00+00:00", reason="crash")
    at = page(history_list.SESSION_TAB).run()
    assert "This session was interrupted (crash)" in texts(at)
    at.session_state[TAB] = "Sessions"
    assert table(at.run()).iloc[0]["Record"] == "interrupted"


def test_editing_pain_and_note_saves_them(store: Store) -> None:
    sid = recorded(store, pain_before=6)
    at = page(history_list.SESSION_TAB).run()
    assert at.select_slider(key=f"pg_hist_pain_before_{sid}").value == 6
    assert at.select_slider(key=f"pg_hist_pain_after_{sid}").value == "not rated"
    at.select_slider(key=f"pg_hist_pain_before_{sid}").set_value(7)
    at.select_slider(key=f"pg_hist_pain_after_{sid}").set_value(2)
    at.text_area(key=f"pg_hist_note_{sid}").input("  neck looser  ")
    at.button(key=f"pg_hist_save_{sid}").click().run()
    assert not at.exception
    summary = store.session_summary(sid)
    assert (summary["pain_before"], summary["pain_after"], summary["note"]) == (
        7,
        2,
        "neck looser",
    )
    assert f"Saved your ratings and note for session #{sid}" in texts(at)

    at.select_slider(key=f"pg_hist_pain_after_{sid}").set_value("not rated")
    at.text_area(key=f"pg_hist_note_{sid}").input("")
    at.button(key=f"pg_hist_save_{sid}").click().run()
    summary = store.session_summary(sid)
    assert (summary["pain_after"], summary["note"]) == (None, None)


def test_a_rating_left_alone_is_not_rounded(store: Store) -> None:
    sid = recorded(store, pain_before=5.5, pain_after=3)
    at = page(history_list.SESSION_TAB).run()
    assert at.select_slider(key=f"pg_hist_pain_before_{sid}").value == 6  # nearest on the slider
    at.text_area(key=f"pg_hist_note_{sid}").input("only the note")
    at.button(key=f"pg_hist_save_{sid}").click().run()
    summary = store.session_summary(sid)
    assert (summary["pain_before"], summary["pain_after"]) == (5.5, 3)
    assert summary["note"] == "only the note"


def test_delete_needs_the_session_number_typed(store: Store) -> None:
    keep = recorded(store)
    sid = recorded(store)
    at = page(history_list.SESSION_TAB).run()
    delete = at.button(key=f"pg_hist_delete_{sid}")
    assert delete.disabled
    at.text_input(key=f"pg_hist_delete_text_{sid}").input(str(keep)).run()
    assert at.button(key=f"pg_hist_delete_{sid}").disabled  # AppTest can't click it either
    assert [s["id"] for s in store.list_sessions()] == [sid, keep]
    at.text_input(key=f"pg_hist_delete_text_{sid}").input(str(sid)).run()
    assert not at.button(key=f"pg_hist_delete_{sid}").disabled
    at.button(key=f"pg_hist_delete_{sid}").click().run()
    assert not at.exception
    assert [s["id"] for s in store.list_sessions()] == [keep]
    assert f"Session #{sid} was deleted." in texts(at)
    assert at.selectbox(key="pg_hist_session").value == keep


Deferred = dict[str, Any]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[Deferred]:
    """The page's click-built downloads: file name, MIME type and the callable building them."""
    seen: list[Deferred] = []
    original = MediaFileManager.add_deferred

    def record(
        self: MediaFileManager, data_callable: Callable[[], Any], *args: Any, **kw: Any
    ) -> str:
        mimetype = args[0] if args else kw.get("mimetype")
        seen.append({"build": data_callable, "mime": mimetype, "file_name": kw.get("file_name")})
        return original(self, data_callable, *args, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def test_csv_and_json_downloads_hold_the_session(store: Store, downloads: list[Deferred]) -> None:
    sid = recorded(store, seconds=10.0)
    at = page(history_list.SESSION_TAB).run()
    assert [b.proto.label for b in at.get("download_button")] == ["Download CSV", "Download JSON"]
    files = {d["file_name"]: d for d in downloads}
    assert set(files) == {f"pressureguard-session-{sid}.csv", f"pressureguard-session-{sid}.json"}
    csv_file = files[f"pressureguard-session-{sid}.csv"]
    assert csv_file["mime"] == "text/csv"
    rows = list(csv.reader(io.StringIO(csv_file["build"]().decode())))
    assert rows[0][:5] == ["t_s", "force_n", "filtered_n", "zone", "raw"]
    assert len(rows) == 1 + 800
    doc = json.loads(files[f"pressureguard-session-{sid}.json"]["build"]())
    assert doc["session"]["id"] == sid
    assert len(doc["samples"]["t_s"]) == 800
    assert "takes a while to prepare" not in texts(at)


def test_a_long_sessions_download_says_how_big_it_is(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = recorded(store, seconds=10.0)
    monkeypatch.setattr(history_exchange, "LARGE_SAMPLES", 500)
    at = page(history_list.SESSION_TAB).run()
    assert f"`pressureguard sessions export {sid} -o FILE`" in texts(at)


# -- import ---------------------------------------------------------------------------------------


def _import(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=history_exchange.IMPORT_KEY).upload(name, data, "text/csv")
    at.run()
    return at.button(key="pg_hist_import_button").click().run()


def test_importing_a_garbage_file_says_why_and_adds_nothing(store: Store) -> None:
    recorded(store)
    at = page().run()
    _import(at, "notes.csv", b"this is,not\nan export,at all\n\x00\x01")
    assert not at.exception
    (error,) = at.error
    assert "Could not import **notes.csv**" in str(error.value)
    assert "Nothing was added" in str(error.value)
    assert len(store.list_sessions()) == 1

    _import(at, "broken.json", b'{"format": "pressureguard-session", "version": 1')
    assert "Could not import **broken.json**" in str(at.error[0].value)
    _import(at, "deep.json", b"[" * 100_000)
    assert "Could not import **deep.json**" in str(at.error[0].value)
    assert not at.exception
    assert len(store.list_sessions()) == 1


def test_an_exported_file_imports_as_a_new_session(store: Store) -> None:
    sid = recorded(store, seconds=5.0, pain_before=4)
    data = history_exchange.export_bytes(store, sid, "json")
    at = page().run()
    _import(at, f"pressureguard-session-{sid}.json", data)
    assert not at.exception
    new = max(s["id"] for s in store.list_sessions())
    assert new != sid
    assert store.session_summary(new)["n_samples"] == 400
    assert store.session_summary(new)["pain_before"] == 4
    assert f"as session #{new}" in texts(at)
    assert table(at).iloc[0]["Session"] == new
    at.session_state[TAB] = history_list.SESSION_TAB
    at.run()
    assert at.selectbox(key="pg_hist_session").value == new  # the imported one is opened


# -- compare --------------------------------------------------------------------------------------


def test_compare_overlays_two_sessions_with_their_numbers(store: Store) -> None:
    first = recorded(store, pain_before=6, pain_after=4)
    second = recorded(store, region="forearm", pain_before=5, pain_after=5)
    third = recorded(store, seconds=60.0, pain_before=6, pain_after=3)
    at = page(history_list.SESSION_TAB).run()
    at.selectbox(key="pg_hist_session").select(third).run()
    at.button(key="pg_hist_to_compare").click().run()
    assert at.session_state[TAB] == "Compare"
    assert not at.exception
    assert at.selectbox(key="pg_hist_compare_first").value == third
    # By default, the session before it on the same region.
    assert at.selectbox(key="pg_hist_compare").value == first
    (chart,) = charts(at)
    assert (chart["session"], chart["compare"]) == (third, first)
    side = at.table[0].value
    assert list(side.columns) == [f"Session #{third}", f"Session #{first}"]
    assert side.loc["Duration"].tolist() == ["1:00", "1:35"]
    assert side.loc["Pain change"].tolist() == ["-3", "-2"]
    assert side.loc["Comfort limit"].tolist() == ["20.0 N", "20.0 N"]
    assert CAVEATS[1] in texts(at)

    at.selectbox(key="pg_hist_compare").select(second).run()
    (chart,) = charts(at)
    assert chart["compare"] == second


def test_compare_with_a_single_session_says_so(store: Store) -> None:
    recorded(store)
    at = page("Compare").run()
    assert "no other session to compare with" in texts(at)


# -- trends ---------------------------------------------------------------------------------------


def test_trends_show_the_caveats_and_the_journal(store: Store) -> None:
    now = datetime.now().replace(hour=10, minute=0, second=0, microsecond=0)
    for days, (before, after) in zip((14, 7, 1), ((6, 4), (6, 5), (5, 3)), strict=True):
        recorded(
            store,
            profile="anna",
            started_at=now - timedelta(days=days),
            pain_before=before,
            pain_after=after,
        )
    store.save_journal("anna", (now - timedelta(days=7)).date(), pain=6, sleep=3, stiffness=5)
    store.save_journal("anna", (now - timedelta(days=6)).date(), pain=7, triggers=["long drive"])
    trial = {"accepted": True, "ppt_n": 25.0}
    store.add_ppt("anna", "calf:left", ppt_n=25.0, trials=[trial], n=1, attempts=1, fraction=0.7)
    at = page("Trends").run()
    assert not at.exception
    said = texts(at)
    for caveat in CAVEATS:
        assert caveat in said
    assert "too early to judge" in said  # under 5 weeks of data
    assert "**anna** · every region · all dates: 3 sessions, 2 journal days" in said
    # peak, time over, pain change; journal; thresholds
    assert len(at.get("vega_lite_chart")) == 5
    triggers = frame(at, "Triggers")
    assert list(triggers["Triggers"]) == ["long drive"]
    weekly = frame(at, "Week")
    assert weekly["Sessions"].sum() == 3


def test_trends_follow_the_filters(store: Store) -> None:
    recorded(store, profile="anna", region="calf:left")
    recorded(store, profile="bo", region="forearm")
    at = page("Trends").run()
    assert at.selectbox(key="pg_hist_trend_profile").value == "bo"  # the newest session's
    at.selectbox(key="pg_hist_profile").select("anna").run()
    assert "**anna** · every region" in texts(at)
    at.selectbox(key="pg_hist_region").select("forearm").run()
    assert "0 sessions" in texts(at)
    assert "No sessions in this range." in texts(at)


def test_the_therapist_report_is_built_on_click(store: Store, downloads: list[Deferred]) -> None:
    recorded(store, profile="anna", seconds=30.0, pain_before=5, pain_after=3)
    page("Trends").run()
    (report,) = [d for d in downloads if d["file_name"].endswith(".pdf")]
    assert report["file_name"].startswith("pressureguard-report-anna-")
    assert report["mime"] == "application/pdf"
    assert report["build"]().startswith(b"%PDF")


def test_a_link_opens_a_session(store: Store) -> None:
    wanted = recorded(store, seconds=10.0)
    recorded(store, seconds=10.0)
    at = page()
    at.query_params["session"] = str(wanted)
    at.run()
    assert not at.exception
    assert at.session_state[TAB] == history_list.SESSION_TAB
    assert at.selectbox(key="pg_hist_session").value == wanted
    assert "session" not in at.query_params  # opened once, not on every run
