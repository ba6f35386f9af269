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

``--jobs N`` splits a target's cases over N processes (one per core) that share one corpus: each
picks up what the others found (libFuzzer rereads the corpus folder every second), and each has a
scratch folder of its own.

    python -m reliability.fuzz [--runs N] [--jobs N] [--max-seconds S] [--report FILE]
                               [--folder DIR] [TARGET ...]
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


def _child(name: str, folder: Path, corpus: Path, libfuzzer: list[str]) -> None:
    """In the target's own process: instrument, seed, fuzz (libFuzzer exits the process)."""
    # Imported here, inside the instrumenting hook: imported at the top, PressureGuard's code
    # would load uninstrumented and give libFuzzer no coverage to follow.
    import atheris  # noqa: PLC0415

    with atheris.instrument_imports(include=INSTRUMENTED):
        from tests.fuzz.byte_targets import TARGETS  # noqa: PLC0415

        target = TARGETS[name](folder)
    corpus.mkdir(exist_ok=True)
    for i, seed in enumerate(target.seeds()):
        # Written whole, then renamed: a job sharing the corpus never reads half a seed.
        part = folder / f"seed-{i:04d}.part"
        part.write_bytes(seed[: target.max_len])
        part.replace(corpus / f"seed-{folder.name}-{i:04d}")
    options = [f"-max_len={target.max_len}", f"-timeout={getattr(target, 'timeout_s', 10)}"]
    atheris.Setup([sys.argv[0], *options, *libfuzzer, str(corpus)], target)
    atheris.Fuzz()


def run_target(
    name: str,
    runs: int,
    folder: Path,
    rss_limit_mb: int = RSS_LIMIT_MB,
    max_seconds: int | None = None,
    *,
    jobs: int = 1,
) -> dict[str, Any]:
    """Fuzz one target for ``runs`` cases in all (or until ``max_seconds`` have passed,
    whichever comes first), in ``jobs`` processes sharing one corpus; returns its figures."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus"
    job_folders = [folder] if jobs == 1 else [folder / f"job-{k}" for k in range(jobs)]
    began = time.monotonic()
    procs = []
    for k, job_folder in enumerate(job_folders):
        job_folder.mkdir(exist_ok=True)
        libfuzzer = [f"-runs={runs // jobs + (k < runs % jobs)}", f"-seed={k + 1}",
                     f"-rss_limit_mb={rss_limit_mb}", "-print_final_stats=1",
                     f"-artifact_prefix={job_folder}/"]  # fmt: skip
        if max_seconds:
            libfuzzer.append(f"-max_total_time={max_seconds}")
        command = [sys.executable, "-m", "reliability.fuzz", "--child", name,
                   "--folder", str(job_folder), "--corpus", str(corpus),
                   "--libfuzzer", shlex.join(libfuzzer)]  # fmt: skip
        with (job_folder / "libfuzzer.log").open("wb") as out:
            procs.append(subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
    codes = [proc.wait() for proc in procs]
    seconds = time.monotonic() - began
    parts = [_job_figures(f, code) for f, code in zip(job_folders, codes, strict=True)]
    figures: dict[str, Any] = {"target": name, "cases": sum(p["cases"] for p in parts)}
    figures["seconds"] = round(seconds, 1)
    for key in ("peak_rss_mb", "coverage", "features", "corpus"):
        values = [p[key] for p in parts if p[key] is not None]
        figures[key] = max(values) if values else None
    figures["passed"] = all(code == 0 for code in codes)
    figures["exit_code"] = next((code for code in codes if code != 0), 0)
    figures["kept"] = [f"{p['folder']}/{c}" if jobs > 1 else c for p in parts for c in p["kept"]]
    figures["log"] = str(job_folders[0] / "libfuzzer.log")
    if jobs > 1:
        figures["jobs"] = jobs
    return figures


def _job_figures(folder: Path, code: int) -> dict[str, Any]:
    """One libFuzzer process's figures, from its final stats and kept inputs."""
    text = (folder / "libfuzzer.log").read_text("utf-8", "replace")
    stats = {key: int(value) for key, value in _STAT.findall(text)}
    coverage = _COVERAGE.findall(text)
    kept = sorted(p.name for p in folder.glob("*-*") if p.is_file())
    return {
        "folder": folder.name,
        "cases": stats.get("number_of_executed_units", 0),
        "peak_rss_mb": stats.get("peak_rss_mb"),
        "coverage": int(coverage[-1][0]) if coverage else None,
        "features": int(coverage[-1][1]) if coverage else None,
        "corpus": int(coverage[-1][2]) if coverage else None,
        "kept": [c for c in kept if c.split("-")[0] in ("crash", "timeout", "oom", "leak")],
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
    parser.add_argument("--jobs", type=int, default=1, help="processes per target (share cores)")
    parser.add_argument(
        "--plain",
        type=int,
        metavar="CASES",
        help="no engine: mutated seeds in a plain loop, resident memory reported",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--libfuzzer", default="", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.folder, args.corpus, shlex.split(args.libfuzzer))
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
        result = run_target(name, args.runs, base / name, limit, args.max_seconds, jobs=args.jobs)
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
