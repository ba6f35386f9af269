"""The bridge: owns the tool, judges every sample, publishes the live feed, records sessions.

One object, :class:`~firmware_bridge.bridge.core.Bridge`, whose parts live in a module each:
``core`` (the loop, the store, the end), ``reading`` (what arrives, judged), ``tool`` (what the
tool says and what it is told), ``connection`` (opening, losing and finding the tool again) and
``control`` (sessions and limits by command).
"""

from firmware_bridge.bridge.core import Bridge, RecordOptions
from firmware_bridge.live import LiveState

__all__ = ["Bridge", "LiveState", "RecordOptions"]
