"""Draws the tool's wiring diagrams from this source (schemdraw): one per board.

    .venv/bin/python hardware/diagrams/wiring.py [OUT_DIR]

writes ``wiring-nano.svg``/``.png`` and ``wiring-esp32.svg``/``.png`` (default: beside this file).
The pins are those of ``hardware/firmware/pressureguard/board.h``; a test redraws the SVGs and
compares them with the checked-in ones, so the pictures cannot drift from this source.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import schemdraw
import schemdraw.elements as elm

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Board:
    """One board's pins for the tool (board.h)."""

    slug: str
    title: str
    supply: str  # the HX711's supply pin on the board
    motor_supply: str  # what feeds the motor and the buzzer
    sck: str
    dout: str
    button: str
    motor: str
    buzzer: str
    battery: str | None  # the battery divider's ADC pin, if any


NANO = Board("nano", "Arduino Nano", "5V", "5V", "D2", "D3", "D4", "D5", "D6", None)
ESP32 = Board(
    "esp32",
    "ESP32 DevKit",
    "3V3",
    "VIN (5 V USB)",
    "GPIO18",
    "GPIO19",
    "GPIO27",
    "GPIO25",
    "GPIO26",
    "GPIO34",
)


def _pin(name: str, side: str, anchor: str, pos: float | None = None) -> elm.IcPin:
    return elm.IcPin(name=name, side=side, anchorname=anchor, pos=pos)


def _driver(
    d: schemdraw.Drawing,
    pin: tuple[float, float],
    *,
    y: float,
    x_base: float,
    label: str,
    load: str,
    supply: str,
) -> None:
    """An NPN low-side switch at height y: the MCU pin → 1 kΩ → base; the load between the
    supply and the collector (the motor, with its flyback diode across it and 22 Ω in series to
    bring 5 V down to its 3 V; or the buzzer); emitter to ground."""
    d.add(elm.Line().at(pin).down().toy(y))
    d.add(elm.Line().left().tox(x_base + 3.0))
    d.add(elm.Resistor().left().tox(x_base).label("1 kΩ", loc="top").label(label, loc="bottom"))
    q = d.add(elm.BjtNpn(circle=True).left().flip().anchor("base").label("2N2222", loc="left"))
    d.add(elm.Ground().at(q.emitter))
    d.add(elm.Line().at(q.collector).up().length(1.0))
    node = d.here
    if load == "motor":
        m = d.add(
            elm.Motor()
            .up()
            .length(2.0)
            .label("vibration motor\n3 V, ≤ 100 mA", loc="bottom", ofst=0.3)
        )
        d.add(elm.Dot())
        d.add(elm.Resistor().up().length(1.5).label("22 Ω", loc="bottom"))
        d.add(elm.Vdd().label(supply))
        d.add(elm.Line().at(node).left().length(2.0))
        d.add(elm.Diode().up().toy(m.end[1]).label("1N4148\n(flyback)", loc="top"))
        d.add(elm.Line().right().tox(m.end[0]))
    else:
        d.add(
            elm.RBox().up().length(2.0).label("active buzzer\n5 V (+ up)", loc="bottom", ofst=0.3)
        )
        d.add(elm.Vdd().label(supply))


def draw(board: Board) -> schemdraw.Drawing:
    """The whole tool for one board."""
    d = schemdraw.Drawing(show=False)
    d.config(fontsize=11, unit=2.5)
    size = (3.0, 4.0)
    cell = d.add(
        elm.Ic(
            size=size,
            pins=[
                _pin("E+ red", "R", "eplus"),
                _pin("E− black", "R", "eminus"),
                _pin("A− white", "R", "aminus"),
                _pin("A+ green", "R", "aplus"),
            ],
        )
        .at((0, 0))
        .anchor("center")
        .label("load cell\n20 kg", loc="top")
    )
    hx = d.add(
        elm.Ic(
            size=size,
            pins=[
                _pin("E+", "L", "eplus"),
                _pin("E−", "L", "eminus"),
                _pin("A−", "L", "aminus"),
                _pin("A+", "L", "aplus"),
                _pin("VCC", "R", "vcc"),
                _pin("GND", "R", "gnd"),
                _pin("DT", "R", "dt"),
                _pin("SCK", "R", "sck"),
            ],
        )
        .at((7.5, 0))
        .anchor("center")
        .label("HX711 module\nRATE (pin 15) to DVDD (pin 16): 80 SPS", loc="top")
    )
    for a in ("eplus", "eminus", "aminus", "aplus"):
        d.add(elm.Wire("-").at(getattr(cell, a)).to(getattr(hx, a)))
    mcu_pins = [
        _pin(board.supply, "L", "supply"),
        _pin("GND", "L", "gnd"),
        _pin(board.dout, "L", "dout"),
        _pin(board.sck, "L", "sck"),
        _pin(board.button, "B", "button", 0.3),
        _pin(board.motor, "B", "motor", 0.6),
        _pin(board.buzzer, "B", "buzzer", 0.9),
    ]
    if board.battery:
        mcu_pins.append(_pin(board.battery, "R", "battery"))
    mcu = d.add(
        elm.Ic(size=(6.0, 4.0), pins=mcu_pins)
        .at((16.5, 0))
        .anchor("center")
        .label(f"{board.title} (USB to the computer)", loc="top")
    )
    d.add(elm.Wire("-").at(hx.vcc).to(mcu.supply))
    d.add(elm.Wire("-").at(hx.gnd).to(mcu.gnd))
    d.add(elm.Wire("-").at(hx.dt).to(mcu.dout))
    d.add(elm.Wire("-").at(hx.sck).to(mcu.sck))

    # the button: the pin to a push button to ground (the internal pull-up holds it high)
    d.add(elm.Line().at(mcu.button).down().length(1.0))
    d.add(elm.Button().down().label("push button", loc="bottom", ofst=0.3))
    d.add(elm.Ground())
    # the motor and buzzer drivers, one below the other
    supply = board.motor_supply
    _driver(d, mcu.motor, y=-9.0, x_base=7.0, label=board.motor, load="motor", supply=supply)
    _driver(d, mcu.buzzer, y=-15.0, x_base=13.0, label=board.buzzer, load="buzzer", supply=supply)
    if board.battery:
        d.add(elm.Line().at(mcu.battery).right().length(1.5))
        d.add(elm.Dot())
        top = d.here
        d.add(elm.Resistor().up().label("100 kΩ", loc="bottom"))
        d.add(elm.Vdd().label("battery +"))
        d.add(elm.Resistor().at(top).down().label("100 kΩ", loc="top"))
        d.add(elm.Ground())
    return d


def main(argv: list[str]) -> int:
    """Write both boards' diagrams as SVG and PNG."""
    out = Path(argv[1]) if len(argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    for board in (NANO, ESP32):
        schemdraw.use("svg")
        draw(board).save(str(out / f"wiring-{board.slug}.svg"))
        schemdraw.use("matplotlib")
        draw(board).save(str(out / f"wiring-{board.slug}.png"), transparent=False, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
