"""The wiring diagrams are drawn from ``hardware/diagrams/wiring.py``: redrawing them gives the
checked-in SVGs, and the pins they show are the firmware's (``board.h``)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from tests.firmware.conftest import ROOT

DIAGRAMS = ROOT / "hardware" / "diagrams"
BOARD_H = ROOT / "hardware" / "firmware" / "pressureguard" / "board.h"


def _wiring() -> ModuleType:
    name = "pressureguard_wiring_diagrams"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DIAGRAMS / "wiring.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _pins(arch: str) -> dict[str, int]:
    """PG_PIN_* of one board's block in board.h."""
    text = BOARD_H.read_text(encoding="utf-8")
    block = text.split(f"defined(ARDUINO_ARCH_{arch})", 1)[1].split("#el", 1)[0]
    return {k: int(v) for k, v in re.findall(r"#define PG_PIN_(\w+) (-?\d+)", block)}


def test_redrawn_svgs_are_the_checked_in_ones(tmp_path: Path) -> None:
    _wiring().main(["wiring.py", str(tmp_path)])
    for name in ("wiring-nano.svg", "wiring-esp32.svg"):
        assert (tmp_path / name).read_text() == (DIAGRAMS / name).read_text(), (
            f"{name} is stale: run .venv/bin/python hardware/diagrams/wiring.py"
        )
        assert (DIAGRAMS / name.replace(".svg", ".png")).stat().st_size > 10_000


def test_diagrams_show_the_firmwares_pins() -> None:
    wiring = _wiring()
    for board, arch, prefix in ((wiring.NANO, "AVR", "D"), (wiring.ESP32, "ESP32", "GPIO")):
        pins = _pins(arch)
        shown = {
            "HX_SCK": board.sck,
            "HX_DOUT": board.dout,
            "BUTTON": board.button,
            "MOTOR": board.motor,
            "BUZZER": board.buzzer,
        }
        for key, label in shown.items():
            assert label == f"{prefix}{pins[key]}", (arch, key)
        battery = pins["BATTERY"]
        assert board.battery == (f"{prefix}{battery}" if battery >= 0 else None)
