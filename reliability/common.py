"""What the soak scripts share: where results go, RSS sampling, the machine line."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.machine import describe

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("PG_SOAK_RESULTS", ROOT / "reliability" / "results"))


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write one run's figures (with the machine and the date) to ``RESULTS/name.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": describe(), **figures}, indent=1) + "\n")
    return path


def rss_mib(pid: int, *, tree: bool = False) -> float | None:
    """Resident memory of a process (and its children), MiB; None once it is gone."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)] if tree else [proc]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return None


@dataclass
class RssSampler:
    """Samples the RSS of named processes every ``every_s`` in a thread.

    ``pids`` maps a name to a pid, or to a callable giving the current pid (a process that a
    supervisor may restart).
    """

    pids: dict[str, Any]
    every_s: float = 60.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def sample(self) -> None:
        row: dict[str, Any] = {"t_s": round(time.monotonic() - self._t0, 1)}
        for name, pid in self.pids.items():
            value = pid() if callable(pid) else pid
            rss = rss_mib(value) if value else None
            row[name] = None if rss is None else round(rss, 1)
        self.samples.append(row)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.sample()
