"""Builds for the firmware tests, once per session, into a temporary directory.

* ``avr_build``: the real firmware ELF for the Arduino Nano (``make -C hardware/firmware``), and
  the flash and RAM figures that build prints.
* ``host_build``: the C core's cmocka runner (sanitizers), the core as a shared library for
  ctypes, and ``pg_sim``, the libsimavr board (``make -C tests/firmware``).

Each build needs its toolchain; where one is missing the tests that need it skip with the
package to install, and in CI (``CI=true``) that is a failure (``tests/conftest.py``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_component

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = ROOT / "hardware" / "firmware"
TESTS_DIR = Path(__file__).resolve().parent
ARDUINO_CORE = Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h")
CMOCKA_H = Path("/usr/include/cmocka.h")
SIMAVR_H = Path("/usr/include/simavr/sim_avr.h")


@dataclass(frozen=True)
class AvrBuild:
    """The Nano firmware as built by its Makefile."""

    elf: Path
    hex: Path
    size_line: str  # "Flash: N bytes (…)  RAM: N bytes (…), N left for the stack"


@dataclass(frozen=True)
class HostBuild:
    """Host programs built from the firmware's C core."""

    test_core: Path
    libpgcore: Path
    pg_sim: Path


def _make(directory: Path, build: Path, *targets: str) -> str:
    proc = subprocess.run(
        ["make", "-C", str(directory), f"BUILD={build}", *targets],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise AssertionError(f"make {' '.join(targets)} in {directory} failed:\n{proc.stderr}")
    return proc.stdout


def require_avr_toolchain() -> None:
    """Skip (fail in CI) without Debian's AVR toolchain and Arduino core."""
    require_component(
        shutil.which("avr-gcc") is not None and ARDUINO_CORE.exists(),
        "the AVR toolchain",
        "apt-get install gcc-avr avr-libc arduino-core-avr",
    )


def require_host_toolchain() -> None:
    """Skip (fail in CI) without a C compiler, cmocka and libsimavr."""
    require_component(shutil.which("cc") is not None, "a C compiler", "apt-get install gcc")
    require_component(CMOCKA_H.exists(), "cmocka", "apt-get install libcmocka-dev")
    require_component(SIMAVR_H.exists(), "libsimavr", "apt-get install libsimavr-dev")


@pytest.fixture(scope="session")
def avr_build(tmp_path_factory: pytest.TempPathFactory) -> AvrBuild:
    """``make -C hardware/firmware`` into a temporary directory."""
    require_avr_toolchain()
    build = tmp_path_factory.mktemp("avr")
    out = _make(FIRMWARE_DIR, build)
    size_line = next(line for line in out.splitlines() if line.startswith("Flash:"))
    return AvrBuild(build / "pressureguard.elf", build / "pressureguard.hex", size_line)


@pytest.fixture(scope="session")
def host_build(tmp_path_factory: pytest.TempPathFactory) -> HostBuild:
    """``make -C tests/firmware`` into a temporary directory."""
    require_host_toolchain()
    build = tmp_path_factory.mktemp("host")
    _make(TESTS_DIR, build, "all")
    return HostBuild(build / "test_core", build / "libpgcore.so", build / "pg_sim")
