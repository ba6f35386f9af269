"""Shared pieces: a pty whose master is driven by the feeder process, and the report file."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import subprocess
import sys
import tty
from pathlib import Path

import numpy as np

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


class FeederPty:
    """A pty pair; the tool side is written by ``benchmarks.feeder`` in its own process."""

    def __init__(self) -> None:
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> None:
        """Start the feeder with ``MODE FD ARGS…``."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.feeder", args[0], str(self.master), *args[1:]],
            pass_fds=(self.master,),
        )

    def close(self) -> None:
        """Stop the feeder and close the pty."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def percentiles(values: list[float] | np.ndarray) -> dict[str, float]:
    """p50, p95, p99 and max in milliseconds."""
    ms = np.asarray(values) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
    }


def write_section(name: str, markdown: str) -> None:
    """Replace (or add) the section between ``<!-- bench:NAME -->`` markers in the report."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n\nWritten by `make bench`.\n"
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _m: block, text)
        if pattern.search(text)
        else f"{text.rstrip()}\n\n{block}\n"
    )
    REPORT.write_text(text)
