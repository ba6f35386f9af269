"""A fake tool on a real pseudo-terminal, reachable at a fixed path (a symlink to the pty slave).

The path stays the same when the "tool" is unplugged and plugged back in, like a udev by-id link,
so a test can remove the pty mid-session and create a new one at the same path.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import time
import tty
from pathlib import Path


class PtyTool:
    """The tool's end of a serial link.

    Args:
        link: the path the bridge opens.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self._slave: int | None = None
        self.received = bytearray()

    def plug(self) -> None:
        """Create a pty and point the link at it."""
        master, slave = pty.openpty()
        tty.setraw(slave)
        self.master, self._slave = master, slave
        tmp = self.link.with_suffix(".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        """Remove the link and close both ends: the bridge sees the port vanish."""
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self.master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave = None

    def write(self, data: bytes) -> None:
        """Send bytes to the host, all of them."""
        assert self.master is not None
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.master], [], 5.0)
            if not ready:
                raise TimeoutError("host is not reading the pty")
            sent = os.write(self.master, view[:4096])
            view = view[sent:]

    def read_available(self, timeout: float = 0.0) -> bytes:
        """Bytes the host sent to the tool (commands), if any arrive within ``timeout``."""
        assert self.master is not None
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return b""
        self.received += data
        return data

    def wait_for_host(self, timeout: float = 15.0) -> None:
        """Block until the host opened the port and sent something (its HELLO)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.read_available(0.05):
                return
        raise TimeoutError("the bridge never opened the port")

    def close(self) -> None:
        """Release everything."""
        self.unplug()
