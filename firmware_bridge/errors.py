"""One error hierarchy for the whole bridge.

::

    PressureGuardError
     ├── SourceError                  a source string or device could not be used
     │    ├── SourceUnavailableError  optional dependency missing (also NotImplementedError)
     │    ├── SourceOpenError         the port/file/peripheral could not be opened (missing, busy)
     │    └── SourceLostError         an open source went away (unplugged, pty closed, BLE dropped)
     ├── ProtocolError                bytes not understood at all (never one bad frame)
     ├── StoreError                   the store cannot be read or written (disk full, corrupt)
     │    ├── StoreBusyError          another process holds the store's write lock
     │    ├── BridgeBusyError         another bridge is recording into the same data directory
     │    └── StoreDamagedError       the store file is damaged: kept aside, waiting for repair
     ├── NotFoundError                a session, profile or file named by the user does not exist
     └── UsageError                   a value given by the user is malformed (unit, region, option)

Single bad frames are never raised: decoders count them. Messages are written for the user: one
line saying what happened and, where possible, what to do.
"""

from __future__ import annotations

from pathlib import Path


class PressureGuardError(Exception):
    """Root of every error PressureGuard raises on purpose."""


class SourceError(PressureGuardError):
    """A source string, port, file or peripheral could not be used."""


class SourceUnavailableError(SourceError, NotImplementedError):
    """The source kind needs an optional dependency that is not installed."""


class SourceOpenError(SourceError):
    """The source could not be opened: missing, busy, or permission denied."""


class SourceLostError(SourceError):
    """An open source went away; the bridge may reconnect."""


class ProtocolError(PressureGuardError):
    """The byte stream cannot be understood in any supported format."""


class StoreError(PressureGuardError):
    """The session store cannot be read or written."""


class StoreBusyError(StoreError):
    """Another process kept the store locked for writing longer than this one would wait; what
    was to be written is kept and can be written later."""


class BridgeBusyError(StoreError):
    """Another bridge is recording into this data directory: this one cannot run until that
    one stops, so starting it again cannot help (the command line exits with
    :attr:`exit_code`, which tells ``pressureguard run`` not to restart it)."""

    exit_code = 3


class StoreDamagedError(StoreError):
    """The store file is damaged (truncated, a damaged header or page, sums that disagree).

    The damaged file is moved aside where possible and nothing opens the store until the user
    repairs it (saving what can be read into a new store) or resets it (an empty one).

    Attributes:
        path: the store's database file.
        kept_at: where the damaged file was kept (None: it could not be moved yet).
        problem: what is wrong, in words.
    """

    def __init__(
        self, message: str, *, path: Path, problem: str, kept_at: Path | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.problem = problem
        self.kept_at = kept_at


class NotFoundError(PressureGuardError):
    """Something the user named (session, profile, file) does not exist."""


class UsageError(PressureGuardError, ValueError):
    """A value given by the user is malformed."""
