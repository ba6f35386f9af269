"""The firmware's C core under cmocka, AddressSanitizer and UBSan, with the project's vectors.

The C runner reads ``tests/protocol/vectors.json`` (flattened by ``vectors_flat.py``): the same
vectors the Python decoder is tested with. These tests run it, and show it can fail.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.firmware.conftest import HostBuild
from tests.firmware.vectors_flat import flatten

VECTORS = Path(__file__).resolve().parents[1] / "protocol" / "vectors.json"
pytestmark = pytest.mark.component("cmocka")


def _run(
    host_build: HostBuild, flat: list[str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "vectors.txt"
    path.write_text("\n".join(flat) + "\n", encoding="utf-8")
    return subprocess.run(
        [str(host_build.test_core), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_every_vector_is_flattened() -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    flat = flatten(vectors)
    kinds = [line.split()[0] for line in flat]
    assert kinds.count("frame") == len(vectors["frames"]) == 13
    assert kinds.count("stream") == len(vectors["streams"]) == 5
    assert kinds.count("negative") == len(vectors["negative"]) == 8
    assert kinds.count("crc") == 1


def test_c_core_passes_every_vector_and_behaviour_test(
    host_build: HostBuild, tmp_path: Path
) -> None:
    flat = flatten(json.loads(VECTORS.read_text(encoding="utf-8")))
    proc = _run(host_build, flat, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    passed = [int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test\(s\)", out)]
    assert passed == [10, 13], out  # the protocol core's group, then the tool's behaviour
    assert "FAILED" not in out
    assert "runtime error" not in out and "AddressSanitizer" not in out


@pytest.mark.parametrize("corrupt", ["body", "crc", "negative"])
def test_c_runner_fails_on_a_wrong_vector(
    host_build: HostBuild, tmp_path: Path, corrupt: str
) -> None:
    """A vector changed by one byte must fail the C runner: it really compares."""
    flat = flatten(json.loads(VECTORS.read_text(encoding="utf-8")))
    for i, line in enumerate(flat):
        words = line.split()
        if corrupt == "body" and words[0] == "frame" and words[2] == "SAMPLES":
            words[3] = words[3][:-2] + ("00" if words[3][-2:] != "00" else "01")
        elif corrupt == "crc" and words[0] == "crc":
            words[2] = "29b2"
        elif corrupt == "negative" and words[0] == "negative" and words[-1] == "crc":
            words[-1] = "version"
        else:
            continue
        flat[i] = " ".join(words)
        break
    proc = _run(host_build, flat, tmp_path)
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr
