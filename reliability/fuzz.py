"""``python -m reliability.fuzz``: the byte-level fuzzers under atheris (libFuzzer).

Each target of :mod:`tests.fuzz.byte_targets` runs in a process of its own (libFuzzer owns the
process and ends it), with PressureGuard's own packages instrumented for coverage. The seeds are
cases drawn from the hypothesis strategies; libFuzzer mutates them for ``--runs`` cases (a
million by default). A case that raises (a check failed), takes longer than the target's timeout
(a hang) or pushes the process past ``--rss-limit-mb`` (memory without bound) ends the run as a
failure, and the input that did it is kept in the run's folder.

One JSON line per target goes to ``--report``: cases run, seconds, peak resident memory, the
coverage libFuzzer reached, and the outcome. ``make soak`` runs all of them; ``tests/fuzz`` runs
each briefly so none can rot.

    python -m reliability.fuzz [--runs N] [--max-seconds S] [--report FILE] [--folder DIR]
                               [TARGET ...]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reliability.common import RESULTS, ROOT

#: Packages whose code is instrumented: the coverage that guides the mutations.
INSTRUMENTED = ["firmware_bridge", "calibration", "review"]
RUNS = 1_000_000
RSS_LIMIT_MB = 2048
_STAT = re.compile(r"stat::(\w+):\s+(\d+)")
_COVERAGE = re.compile(r"cov: (\d+) ft: (\d+) corp: (\d+)")


def _child(name: str, folder: Path, libfuzzer: list[str]) -> None:
    """In the target's own process: instrument, seed, fuzz (libFuzzer exits the process)."""
    # Imported here, inside the instrumenting hook: imported at the top, PressureGuard's code
    # would load uninstrumented and give libFuzzer no coverage to follow.
    import atheris  # noqa: PLC0415

    with atheris.instrument_imports(include=INSTRUMENTED):
        from tests.fuzz.byte_targets import TARGETS  # noqa: PLC0415

        target = TARGETS[name](folder)
    corpus = folder / "corpus"
    corpus.mkdir(exist_ok=True)
    for i, seed in enumerate(target.seeds()):
        (corpus / f"seed-{i:04d}").write_bytes(seed[: target.max_len])
    options = [f"-max_len={target.max_len}", f"-timeout={getattr(target, 'timeout_s', 10)}"]
    atheris.Setup([sys.argv[0], *options, *libfuzzer, str(corpus)], target)
    atheris.Fuzz()


def run_target(
    name: str,
    runs: int,
    folder: Path,
    rss_limit_mb: int = RSS_LIMIT_MB,
    max_seconds: int | None = None,
) -> dict[str, Any]:
    """Fuzz one target for ``runs`` cases (or until ``max_seconds`` have passed, whichever
    comes first) in a process of its own; returns its figures."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "libfuzzer.log"
    libfuzzer = [f"-runs={runs}", f"-rss_limit_mb={rss_limit_mb}", "-print_final_stats=1",
                 f"-artifact_prefix={folder}/"]  # fmt: skip
    if max_seconds:
        libfuzzer.append(f"-max_total_time={max_seconds}")
    command = [sys.executable, "-m", "reliability.fuzz", "--child", name, "--folder", str(folder),
               "--libfuzzer", shlex.join(libfuzzer)]  # fmt: skip
    began = time.monotonic()
    with log.open("wb") as out:
        done = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
    code = done.returncode
    seconds = time.monotonic() - began
    text = log.read_text("utf-8", "replace")
    stats = {key: int(value) for key, value in _STAT.findall(text)}
    coverage = _COVERAGE.findall(text)
    crashes = sorted(p.name for p in folder.glob("*-*") if p.is_file() and p.parent == folder)
    return {
        "target": name,
        "cases": stats.get("number_of_executed_units", 0),
        "seconds": round(seconds, 1),
        "peak_rss_mb": stats.get("peak_rss_mb"),
        "coverage": int(coverage[-1][0]) if coverage else None,
        "features": int(coverage[-1][1]) if coverage else None,
        "corpus": int(coverage[-1][2]) if coverage else None,
        "passed": code == 0,
        "exit_code": code,
        "kept": [c for c in crashes if c.split("-")[0] in ("crash", "timeout", "oom", "leak")],
        "log": str(log),
    }


def plain_loop(name: str, cases: int, folder: Path, every: int = 10_000) -> list[float]:
    """Run a target's check on randomly mutated seeds in a plain loop, without the engine, and
    return the process's resident memory (MB) after each ``every`` cases: whether memory that
    grows under libFuzzer is PressureGuard's or the engine's."""
    import random  # noqa: PLC0415 - only this measurement needs them

    import psutil  # noqa: PLC0415

    from tests.fuzz.byte_targets import TARGETS  # noqa: PLC0415 - see _child

    target = TARGETS[name](folder)
    seeds = list(target.seeds())
    rng = random.Random(1)
    rss = []
    for i in range(1, cases + 1):
        case = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            if case:
                case[rng.randrange(len(case))] = rng.randrange(256)
        with contextlib.suppress(AssertionError):  # a failing check is the engine's to report
            target(bytes(case))
        if i % every == 0:
            gc.collect()
            rss.append(round(psutil.Process().memory_info().rss / 2**20, 1))
    return rss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.fuzz", description=__doc__)
    parser.add_argument("targets", nargs="*", help="targets to run (default: all)")
    parser.add_argument("--runs", type=int, default=RUNS, help="cases per target")
    parser.add_argument("--report", type=Path, default=RESULTS / "fuzz-bytes.jsonl")
    parser.add_argument("--folder", type=Path, help="where corpora, logs and kept inputs go")
    parser.add_argument("--rss-limit-mb", type=int, default=RSS_LIMIT_MB)
    parser.add_argument("--max-seconds", type=int, help="stop each target after this long")
    parser.add_argument(
        "--plain",
        type=int,
        metavar="CASES",
        help="no engine: mutated seeds in a plain loop, resident memory reported",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--libfuzzer", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.folder, shlex.split(args.libfuzzer))
        return 0
    from tests.fuzz.byte_targets import TARGETS  # noqa: PLC0415 - see _child

    names = args.targets or list(TARGETS)
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        print(f"fuzz: no target {', '.join(unknown)}; targets: {', '.join(TARGETS)}")
        return 2
    base = args.folder or Path(tempfile.mkdtemp(prefix="pg-fuzz-"))
    if args.plain:
        for name in names:
            (base / name).mkdir(parents=True, exist_ok=True)
            rss = plain_loop(name, args.plain, base / name)
            print(f"fuzz: {name} in a plain loop: resident MB every 10,000 cases: {rss}")
        return 0
    args.report.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        limit = max(args.rss_limit_mb, getattr(TARGETS[name], "rss_limit_mb", 0))
        result = run_target(name, args.runs, base / name, limit, args.max_seconds)
        with args.report.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result) + "\n")
        verdict = "passed" if result["passed"] else f"FAILED (see {result['log']})"
        print(f"fuzz: {name}: {result['cases']:,} cases in {result['seconds']:.0f} s, "
              f"peak {result['peak_rss_mb']} MB, coverage {result['coverage']}: {verdict}",
              flush=True)  # fmt: skip
        if not result["passed"]:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
