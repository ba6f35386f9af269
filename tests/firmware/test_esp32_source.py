"""The ESP32 build's sources compile (syntax and types) with the host's C++ compiler against
declarations of the ESP32 Arduino core's API (``esp32_stub/``), in its 2.x and 3.x flavours.

This is no ESP32 build (there is no ESP32 compiler here, README §4): it catches typos, type
errors and API mismatches in the ESP32-only code (BLE, watchdog, eFuse id, critical sections)
against the signatures of arduino-esp32, which the stubs copy."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import require_component
from tests.firmware.conftest import FIRMWARE_DIR, TESTS_DIR

pytestmark = pytest.mark.component("g++")
SKETCH = FIRMWARE_DIR / "pressureguard"
SOURCES = ("pressureguard.ino", "ble_link.cpp", "platform.cpp", "hx711.cpp")


@pytest.mark.parametrize("major", [2, 3])
@pytest.mark.parametrize("source", SOURCES)
def test_esp32_source_compiles_against_the_core_api(source: str, major: int) -> None:
    require_component(shutil.which("g++") is not None, "a C++ compiler", "apt-get install g++")
    proc = subprocess.run(
        [
            "g++",
            "-std=gnu++17",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-DARDUINO_ARCH_ESP32",
            f"-DESP_STUB_MAJOR={major}",
            f"-I{TESTS_DIR / 'esp32_stub'}",
            f"-I{SKETCH}",
            "-x",
            "c++",
            str(SKETCH / source),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
