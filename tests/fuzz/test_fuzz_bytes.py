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
