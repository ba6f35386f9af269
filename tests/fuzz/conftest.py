"""Fuzzing rules shared by every fuzzer in this folder.

Each fuzzer is a hypothesis test whose number of cases comes from ``PG_FUZZ_EXAMPLES`` (unset: the
short run of ``make test``, a few hundred cases each; ``make soak`` sets a million). Every case
must end in a defined outcome: a result, or one of PressureGuard's own errors with a one-line
message. No case may raise anything else, hang (a per-case deadline, and pytest-timeout around the
whole run), or grow memory without bound (each fuzzer checks the bound that applies to it, and the
process's resident memory is compared before and after the run).

With ``PG_FUZZ_REPORT=FILE`` every fuzzer appends one JSON line to FILE: its name, cases run,
seconds, and resident memory before and after (``make soak`` turns that into the figures of
``docs/reliability.md``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, settings

#: Cases per fuzzer in ``make test``, unless a fuzzer asks for fewer (the costly ones).
SHORT_RUN = 400
#: Resident memory a whole fuzzing run may add (MiB): hypothesis keeps some history of its own;
#: a leak per case would pass this long before a million cases.
RSS_GROWTH_MIB = 256
#: Beyond this many cases the growth is reported, not judged: hypothesis's own record of the
#: examples it tried grows with the run (a plain loop of 20,000 hostile commands grows the bridge
#: by 4 MiB; hypothesis driving the same 20,000 grows the process by ~400 MiB).
RSS_CHECKED_UP_TO = 1_000
#: The per-case deadline: a case that takes this long is a hang (normal cases take milliseconds).
CASE_DEADLINE = timedelta(seconds=10)


def examples(short: int = SHORT_RUN) -> int:
    """Cases to run: ``PG_FUZZ_EXAMPLES`` when set (the long run), else ``short``."""
    value = os.environ.get("PG_FUZZ_EXAMPLES")
    return int(value) if value else short


def fuzz_settings(short: int = SHORT_RUN, deadline: timedelta = CASE_DEADLINE) -> settings:
    """Hypothesis settings for a fuzzer: the case count, the deadline, no example database."""
    return settings(
        max_examples=examples(short),
        deadline=deadline,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )


@dataclass
class Tally:
    """Cases a fuzzer ran (hypothesis may run a case more than once while shrinking)."""

    name: str
    cases: int = 0

    def __call__(self) -> None:
        self.cases += 1


def _rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """Counts cases, checks resident memory did not grow without bound, reports the run."""
    counter = Tally(request.node.name)
    rss0, t0 = _rss_mib(), time.monotonic()
    yield counter
    rss1, took = _rss_mib(), time.monotonic() - t0
    report = os.environ.get("PG_FUZZ_REPORT")
    if report:
        line = {
            "fuzzer": counter.name,
            "cases": counter.cases,
            "seconds": round(took, 1),
            "rss_start_mib": round(rss0, 1),
            "rss_end_mib": round(rss1, 1),
        }
        with Path(report).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
    assert counter.cases > 0
    if counter.cases <= RSS_CHECKED_UP_TO:
        assert rss1 - rss0 < RSS_GROWTH_MIB, f"resident memory grew {rss1 - rss0:.0f} MiB"


def one_line(message: str) -> bool:
    """A message a user can read: one non-empty line, no traceback."""
    text = message.strip()
    return bool(text) and "\n" not in text and "Traceback" not in text
