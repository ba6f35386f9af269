"""``make soak``: every long run, one after the other, figures in ``reliability/results/``.

1. every fuzzer at a million cases under atheris (``reliability.fuzz``, ``PG_FUZZ_RUNS``, one
   process a core or ``PG_FUZZ_JOBS``): ``fuzz-bytes.jsonl``; then the hypothesis fuzzers at
   ``PG_FUZZ_EXAMPLES`` cases each (default 20,000: hypothesis spends most of its time building
   cases): ``fuzz.jsonl``;
2. the fault tests repeated ``PG_FAULT_REPEATS`` times (default 10): ``faults.jsonl``;
3. a 4-hour session at 1 kHz recorded (a capture replayed at full speed) and reviewed:
   ``load.json``;
4. 8 tabs on the live page for 30 minutes, RSS every minute: ``tabs.json`` and
   ``docs/reliability-rss.png``;
5. the dashboard server over hundreds of stream reconnects: ``reconnects.json``.

``python -m reliability.soak fuzz faults`` runs only the parts named. Expect many hours in all on
two cores; ``docs/reliability.md`` says what ran when.
"""

from __future__ import annotations

import os
import subprocess
import sys

from reliability.common import RESULTS, ROOT

PARTS = ("fuzz", "faults", "load", "tabs", "reconnects")


def _pytest(folder: str, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=0",
               folder]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parts = (argv if argv is not None else sys.argv[1:]) or list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        print(f"soak: no part {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = []
    for part in parts:
        print(f"soak: {part}", flush=True)
        if part == "fuzz":
            report = RESULTS / "fuzz-bytes.jsonl"
            report.unlink(missing_ok=True)
            runs = os.environ.get("PG_FUZZ_RUNS", "1000000")
            jobs = os.environ.get("PG_FUZZ_JOBS", str(os.cpu_count() or 1))
            code = subprocess.run(
                [sys.executable, "-m", "reliability.fuzz", "--runs", runs, "--jobs", jobs,
                 "--report", str(report)],
                cwd=ROOT,
                check=False,
            ).returncode  # fmt: skip
            report = RESULTS / "fuzz.jsonl"
            report.unlink(missing_ok=True)
            env = {"PG_FUZZ_EXAMPLES": os.environ.get("PG_FUZZ_EXAMPLES", "20000"),
                   "PG_FUZZ_REPORT": str(report)}  # fmt: skip
            code = _pytest("tests/fuzz", env) or code
        elif part == "faults":
            report = RESULTS / "faults.jsonl"
            report.unlink(missing_ok=True)
            env = {"PG_FAULT_REPEATS": os.environ.get("PG_FAULT_REPEATS", "10"),
                   "PG_FAULT_REPORT": str(report)}  # fmt: skip
            code = _pytest("tests/reliability", env)
        else:
            code = subprocess.run(
                [sys.executable, "-m", f"reliability.{part}"], cwd=ROOT, check=False
            ).returncode
        if code:
            failed.append(part)
    print(f"soak: done; failed: {', '.join(failed) or 'none'}; figures in {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
