"""One person's data never shows up in another's report or export, and hostile text in names and
notes is stored as text (every query is parameterised)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from firmware_bridge.errors import NotFoundError
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import export_csv, export_json
from review.report.content import gather
from tests.review.conftest import WriteSession

HOSTILE = "x'); DROP TABLE sessions; --"


def test_a_report_and_an_export_hold_only_their_own_profile(
    store: Store, session_from_arrays: WriteSession
) -> None:
    t = np.arange(0, 20, 0.0125)
    ann = session_from_arrays(t, 5 + 0 * t, profile="ann", region="neck:left")
    bob = session_from_arrays(t, 17 + 0 * t, profile="bob", region="calf:right")
    content = gather(store, "ann")
    assert [e.summary["id"] for e in content.sessions] == [ann]
    assert {e.summary["profile"] for e in content.sessions} == {"ann"}
    out = io.StringIO()
    export_json(store, ann, out)
    assert '"bob"' not in out.getvalue() and "calf" not in out.getvalue()
    csv = io.StringIO()
    export_csv(store, bob, csv)
    rows = csv.getvalue().splitlines()
    assert len(rows) - 1 == len(t)  # bob's samples only, every one of them


def test_hostile_text_is_stored_as_text(store: Store, session_from_arrays: WriteSession) -> None:
    t = np.arange(0, 2, 0.0125)
    sid = session_from_arrays(t, 3 + 0 * t, profile=HOSTILE, region="neck:left")
    store.update_session(sid, note=HOSTILE)
    summary = store.session_summary(sid)
    assert summary["profile"] == HOSTILE and summary["note"] == HOSTILE
    assert [s["id"] for s in store.list_sessions()] == [sid]  # the table is still there
    assert gather(store, HOSTILE).sessions
    with pytest.raises(NotFoundError, match="no profile"):
        gather(store, "x' OR '1'='1")
