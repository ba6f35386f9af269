"""The Nano build: ``make -C hardware/firmware`` with Debian's toolchain builds the sketch,
prints its flash and RAM use, fits the ATmega328P with room for the stack, and
``hardware/README.md`` states the figures the build prints."""

from __future__ import annotations

import re

import pytest

from tests.firmware.conftest import ROOT, AvrBuild

pytestmark = pytest.mark.component("avr-gcc")
SIZE_RE = r"Flash: (\d+) bytes \([\d.]+% of 30720\)  RAM: (\d+) bytes \([\d.]+% of 2048\)"


def test_build_prints_flash_and_ram_and_fits(avr_build: AvrBuild) -> None:
    match = re.match(SIZE_RE, avr_build.size_line)
    assert match, avr_build.size_line
    flash, ram = int(match.group(1)), int(match.group(2))
    assert 0 < flash <= 30720  # the Nano's flash less its 2 KB bootloader
    assert 0 < ram <= 2048 - 768  # leaves the stack at least 768 bytes
    assert avr_build.hex.stat().st_size > 0


def test_readme_states_the_figures_the_build_prints(avr_build: AvrBuild) -> None:
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    match = re.match(SIZE_RE, avr_build.size_line)
    assert match
    assert avr_build.size_line.split(",")[0] in readme, (
        f"hardware/README.md should quote the build's line: {avr_build.size_line}"
    )
