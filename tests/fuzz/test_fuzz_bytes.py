"""The byte-level fuzzers (atheris, libFuzzer) run briefly, so none can rot before a long run.

``make soak`` runs each for a million cases (``python -m reliability.fuzz``); here each runs a
few thousand through the same driver, in its own process, and must end with every case passed,
the count reached and its coverage reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reliability.fuzz import run_target
from tests.fuzz.byte_targets import TARGETS

#: Cases per target here; the costly targets (a store, the command line) run fewer.
SHORT = {"cli_arguments": 500, "import_any_file": 1000, "hostile_commands": 1000}


@pytest.mark.parametrize("name", list(TARGETS))
def test_byte_target_runs_clean(name: str, tmp_path: Path) -> None:
    runs = SHORT.get(name, 3000)
    result = run_target(name, runs, tmp_path / name)
    log = Path(result["log"]).read_text("utf-8", "replace")
    assert result["passed"], (result["exit_code"], log[-3000:])
    assert result["cases"] >= runs, json.dumps(result)
    assert result["kept"] == []
    assert result["coverage"] and result["coverage"] > 10  # our code was instrumented and reached


def test_jobs_split_one_target_over_processes_with_one_corpus(tmp_path: Path) -> None:
    """``--jobs 2``: two processes on one target, each with its own scratch folder, writing to
    one corpus; their cases add up (each runs its seeds, then its share of the rest)."""
    result = run_target("cli_arguments", 1001, tmp_path / "cli", jobs=2)
    assert result["passed"], (result["exit_code"], Path(result["log"]).read_text()[-3000:])
    assert result["jobs"] == 2
    done = []
    for k in (0, 1):
        log = (tmp_path / "cli" / f"job-{k}" / "libfuzzer.log").read_text()
        assert (tmp_path / "cli" / f"job-{k}" / "cli" / "home").is_dir()
        done.append(int(log.split("stat::number_of_executed_units:")[1].split()[0]))
    assert min(done) >= 500 and result["cases"] == sum(done)
    seeders = {p.name.split("-")[2] for p in (tmp_path / "cli" / "corpus").glob("seed-job-*")}
    assert seeders == {"0", "1"}  # both jobs' seeds went to the one corpus
