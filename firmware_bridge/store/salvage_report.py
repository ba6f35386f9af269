"""What a salvage saved and lost: per table, per session, in words and as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DATA_TABLES = (
    "profiles",
    "settings",
    "limits",
    "calibrations",
    "ppt_measurements",
    "journal",
    "sessions",
    "sample_chunks",
    "events",
)
#: Tables not carried over, and why (they describe a moment, not the user's data).
TRANSIENT = {
    "live": "the recorder's live status",
    "live_samples": "the live view's last minute",
    "commands": "the dashboard's requests to the bridge",
}


@dataclass
class TableSaved:
    """How much of one table was saved.

    Attributes:
        saved: rows in the new store.
        unreadable: rows known to exist (an index names them) that could not be read, or that
            did not read back consistently.
        damaged: whether a damaged page stopped a scan of the table (rows nothing else knows of
            may be lost there).
    """

    saved: int = 0
    unreadable: int = 0
    damaged: bool = False


@dataclass
class SessionSaved:
    """What was saved of one session.

    Attributes:
        id: the session id (kept).
        started_at: its start (UTC ISO), when known.
        samples_saved: samples in the new store.
        samples_recorded: what its record said it held; None when its record was lost.
        events_saved: events in the new store.
        record_lost: its record could not be read (the samples are kept under a stand-in).
        chunks_rejected: sample chunks found but not saved (damaged).
    """

    id: int
    started_at: str | None
    samples_saved: int = 0
    samples_recorded: int | None = None
    events_saved: int = 0
    record_lost: bool = False
    chunks_rejected: int = 0

    @property
    def samples_lost(self) -> int | None:
        """Samples recorded but not saved (None when the record, so the count, was lost)."""
        if self.samples_recorded is None:
            return None
        return max(0, self.samples_recorded - self.samples_saved)

    @property
    def whole(self) -> bool:
        """Everything of the session was saved."""
        return not self.record_lost and not self.chunks_rejected and self.samples_lost == 0


@dataclass
class SalvageReport:
    """What :func:`salvage` saved and lost.

    Attributes:
        source: the damaged file read.
        target: the new store.
        readable: False when nothing at all could be read (the new store is empty).
        header_rebuilt: the damaged file's header was rebuilt (in a copy) to read it.
        tables: per data table, what was saved.
        sessions: per session found (by its record, samples, events or an index).
        not_carried: transient tables left behind, with how many rows they held.
        notes: anything else the user should know.
    """

    source: Path
    target: Path
    readable: bool = True
    header_rebuilt: bool = False
    tables: dict[str, TableSaved] = field(default_factory=dict)
    sessions: list[SessionSaved] = field(default_factory=list)
    not_carried: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def samples_saved(self) -> int:
        """Samples in the new store."""
        return sum(s.samples_saved for s in self.sessions)

    @property
    def samples_lost(self) -> int:
        """Samples known to be lost (of sessions whose record said how many they held)."""
        return sum(s.samples_lost or 0 for s in self.sessions)

    @property
    def whole(self) -> bool:
        """Everything known was saved."""
        return (
            self.readable
            and all(s.whole for s in self.sessions)
            and not any(t.damaged or t.unreadable for t in self.tables.values())
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the totals."""
        out = asdict(self)
        out["source"] = str(self.source)
        out["target"] = str(self.target)
        out["samples_saved"] = self.samples_saved
        out["samples_lost"] = self.samples_lost
        out["whole"] = self.whole
        for entry, session in zip(out["sessions"], self.sessions, strict=True):
            entry["samples_lost"] = session.samples_lost
            entry["whole"] = session.whole
        return out

    def lines(self) -> list[str]:
        """The report in words, one fact a line (what the CLI prints and the dashboard shows)."""
        out: list[str] = []
        if not self.readable:
            out.append(
                "nothing could be read from the damaged file: the new store is empty"
                f" (the damaged file stays at {self.source})"
            )
            return out
        whole = [s for s in self.sessions if s.whole]
        out.append(
            f"saved {len(self.sessions) - self._lost_entirely()} of {len(self.sessions)}"
            f" session(s) ({len(whole)} whole) and {self.samples_saved:,} samples"
            + (f"; {self.samples_lost:,} samples lost" if self.samples_lost else "")
        )
        for s in self.sessions:
            if s.whole:
                continue
            out.append(_session_line(s))
        saved = ", ".join(
            f"{self.tables[t].saved} {_NOUNS[t]}"
            for t in DATA_TABLES
            if t in self.tables and t not in ("sessions", "sample_chunks") and self.tables[t].saved
        )
        if saved:
            out.append(f"also saved: {saved}")
        for t in DATA_TABLES:
            kept = self.tables.get(t)
            if kept is None or t in ("sessions", "sample_chunks"):
                continue
            if kept.unreadable or kept.damaged:
                lost = f"{kept.unreadable} known row(s)" if kept.unreadable else "some rows"
                out.append(f"lost: {lost} of {_NOUNS[t]} could not be read")
        out += self.notes
        left = [f"{TRANSIENT[t]} ({n} row(s))" for t, n in self.not_carried.items() if n]
        if left:
            out.append("not carried over (live data, not kept by design): " + "; ".join(left))
        if self.header_rebuilt:
            out.append("the damaged file's header was rebuilt (in a copy) to read it")
        out.append(f"the damaged file stays at {self.source}")
        return out

    def _lost_entirely(self) -> int:
        return sum(
            1 for s in self.sessions if s.record_lost and not s.samples_saved and not s.events_saved
        )


_NOUNS = {
    "profiles": "profile(s)",
    "settings": "setting(s)",
    "limits": "comfort limit(s)",
    "calibrations": "calibration(s)",
    "ppt_measurements": "pain-threshold measurement(s)",
    "journal": "journal day(s)",
    "sessions": "session(s)",
    "sample_chunks": "sample chunk(s)",
    "events": "event(s)",
}


def _session_line(s: SessionSaved) -> str:
    when = f" (started {s.started_at[:16].replace('T', ' ')} UTC)" if s.started_at else ""
    name = f"session {s.id}{when}"
    if s.record_lost and not s.samples_saved and not s.events_saved:
        return f"lost: {name}: its record and samples could not be read"
    if s.record_lost:
        return (
            f"{name}: its record was lost; {s.samples_saved:,} samples and {s.events_saved}"
            " events saved under a stand-in record (how many it held is not known)"
        )
    if s.samples_saved == 0 and (s.samples_recorded or 0) > 0:
        return f"{name}: its record was saved, all {s.samples_recorded:,} samples lost"
    lost = s.samples_lost
    return f"{name}: {s.samples_saved:,} of {s.samples_recorded:,} samples saved, {lost:,} lost"
