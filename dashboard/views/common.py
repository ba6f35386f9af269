"""Helpers the pages share: opening the store, posting commands and following them."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from dashboard import resources, store_damaged
from firmware_bridge.errors import NotFoundError, PressureGuardError, StoreDamagedError
from firmware_bridge.store import Store

#: A command not taken by the bridge within this many seconds is reported as unanswered.
UNTAKEN_WARN_S = 5.0
#: The bridge drops commands older than this (Store.take_commands' default).
COMMAND_EXPIRY_S = 60.0

#: How long a page waits for the bridge to answer a quick command before showing the page.
WAIT_S = 2.0

_PENDING = "pg_pending_command"
#: Commands in words, where their names do not say it ("The bridge could not zero the tool: …").
_LABELS = {"tare": "zero the tool"}
_FLASH = "pg_flash"


def store_or_stop() -> Store:
    """The process's Store; on failure, an error on the page and the script stops."""
    try:
        store = resources.get_store()
    except StoreDamagedError as exc:
        store_damaged.show(exc)  # what is wrong, and the user's choices
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so
    except PressureGuardError as exc:
        st.error(f"Cannot open the PressureGuard data in {resources.data_dir()}: {exc}")
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so
    store_damaged.show_report()  # once, after the user repaired or reset a damaged store
    return store


def post(store: Store, kind: str, args: dict[str, Any]) -> int | None:
    """Post a command for the bridge and remember it, to show its outcome on the next runs.

    Returns:
        The command id, or None when it could not be posted (the error is on the page).
    """
    try:
        command_id = store.post_command(kind, args)
    except PressureGuardError as exc:
        st.error(f"Could not send the request to the bridge: {exc}")
        return None
    st.session_state[_PENDING] = {"id": command_id, "kind": kind, "posted": time.time()}
    return command_id


def post_and_wait(store: Store, kind: str, args: dict[str, Any]) -> None:
    """Post a command and wait up to :data:`WAIT_S` for the bridge's answer (kept for
    :func:`show_flash`); a slower answer is followed by :func:`follow_pending` on later runs."""
    if post(store, kind, args) is None:
        return
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        command = pending()
        if command is None:
            return
        try:
            done = store.get_command(int(command["id"])).get("done_at")
        except PressureGuardError:
            return
        if done:
            return
        time.sleep(0.1)


def pending() -> dict[str, Any] | None:
    """The command this browser session is waiting for, if any."""
    value = st.session_state.get(_PENDING)
    return value if isinstance(value, dict) else None


def flash(kind: str, text: str) -> None:
    """Keep a message for the next run (a rerun would wipe one shown now)."""
    st.session_state[_FLASH] = (kind, text)


def show_flash() -> None:
    """Show, once, the message kept by :func:`flash`."""
    kept = st.session_state.pop(_FLASH, None)
    if not kept:
        return
    kind, text = kept
    if kind == "error":
        st.error(text, icon=":material/error:")
    else:
        st.info(text, icon=":material/check:")


def follow_pending(store: Store) -> str | None:
    """Show how the pending command is doing; once answered, forget it and keep the outcome
    for :func:`show_flash`.

    Returns:
        ``"waiting"`` while the bridge has not answered, ``"done"`` once it has (or never will),
        None when nothing is pending.
    """
    command = pending()
    if command is None:
        return None
    label = _LABELS.get(str(command["kind"]), str(command["kind"]).replace("_", " "))
    try:
        row = store.get_command(int(command["id"]))
    except (NotFoundError, PressureGuardError) as exc:
        st.session_state.pop(_PENDING, None)
        flash("error", f"Lost track of the {label} request: {exc}")
        return "done"
    if row.get("done_at"):
        st.session_state.pop(_PENDING, None)
        result = row.get("result") or {}
        if result.get("ok", True):
            flash("info", f"Done: {label}.")
        else:
            reason = result.get("error", "no reason given")
            flash("error", f"The bridge could not {label}: {reason}")
        return "done"
    waited = time.time() - float(command["posted"])
    if waited > COMMAND_EXPIRY_S + 5:
        st.session_state.pop(_PENDING, None)
        flash("error", f"No bridge answered the {label} request; it was dropped.")
        return "done"
    if not row.get("taken_at") and waited > UNTAKEN_WARN_S:
        st.warning(
            f"Waiting for the bridge to {label}… none has picked it up in {waited:.0f} s. "
            "Is PressureGuard running (`pressureguard run` or `pressureguard demo`)?"
        )
    else:
        st.caption(f"Waiting for the bridge to {label}…")
    return "waiting"


PAIN_OPTIONS: list[Any] = ["not rated", *range(11)]


def pain_value(choice: Any) -> int | None:
    """A pain slider's choice as 0–10, or None when not rated."""
    return choice if isinstance(choice, int) else None
