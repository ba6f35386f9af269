"""The real AVR firmware in emulation, driven by a minimal host on its pty: HAPTIC moves the
motor pin, LOCAL_LIMIT makes the tool warn by itself within one sample period with the host
silent, the button is debounced, saturation and a silent ADC are flagged, a module left at
10 SPS is handled, and the watchdog brings a frozen firmware back. Every time below is simulated
time, measured by the board (``pg_sim``); nothing depends on how fast this machine is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge.protocol.frames import (
    FrameType,
    Haptic,
    haptic_payload,
    local_limit_payload,
)
from firmware_bridge.readings import ButtonEvent, ClockReset, DeviceInfo, DeviceStatus, SampleBatch
from tests.firmware.conftest import AvrBuild, HostBuild
from tests.firmware.simboard import PERIOD_NS, Event, Script, SerialHost, SimBoard
from tests.integration.cli import wait_until

pytestmark = [pytest.mark.component("simavr"), pytest.mark.timeout(300)]
MS = 1_000_000  # ns


class Run:
    """A board and its host, for one test."""

    def __init__(self, host_build: HostBuild, elf: Path, script: Script, path: Path, **kw: bool):
        self.script = script
        self.board = SimBoard(host_build.pg_sim, elf, script.write(path), **kw)
        self.host = SerialHost(self.board.pty)

    def pins(self, name: str) -> list[tuple[int, int]]:
        """(level, ns) of every change of a pin."""
        return [(e.num(1), e.num(2)) for e in self.board.of("pin") if e.args[0] == name]

    def samples(self) -> list[int]:
        return [int(r) for b in self.host.read() if isinstance(b, SampleBatch) for r in b.raw]

    def of(self, kind: type) -> list:
        return [r for r in self.host.read() if isinstance(r, kind)]

    def close(self) -> None:
        self.host.close()
        self.board.close()


@pytest.fixture
def run(host_build: HostBuild, avr_build: AvrBuild, tmp_path: Path) -> Iterator:
    runs: list[Run] = []

    def start(script: Script, **kw: bool) -> Run:
        r = Run(host_build, avr_build.elf, script, tmp_path / f"script{len(runs)}.txt", **kw)
        runs.append(r)
        return r

    yield start
    for r in runs:
        r.close()


def _after(events: list[tuple[int, int]], level: int, t_ns: int) -> int:
    """Time of the first change to `level` at or after t_ns."""
    return next(t for v, t in events if v == level and t >= t_ns)


def test_local_limit_warns_within_one_sample_period_with_the_host_silent(run) -> None:
    ramp = list(range(1000, 20001, 500))  # crosses 10 000 on its 19th conversion
    script = Script().repeat(80, 1000).sample(*ramp).repeat(40, 20000).repeat(60, 1000)
    r = run(script)
    # HELLO and the limit, as the first bytes the board gets; then the host says nothing more
    r.host.send((FrameType.HELLO, b""), (FrameType.LOCAL_LIMIT, local_limit_payload(10_000, 1)))
    end = r.board.wait_end()

    last_rx = max(e.num(0) for e in r.board.of("rx"))
    drdy = r.board.of("drdy")
    crossing = next(e.num(1) for e in drdy if e.num(2) >= 10_000)
    assert last_rx < crossing < end.num(0)
    motor, buzzer = r.pins("motor"), r.pins("buzzer")
    assert [v for v, t in motor if v == 1 and t < crossing] == []
    latency = _after(motor, 1, crossing) - crossing
    print(f"LOCAL_LIMIT reaction: motor pin high {latency / 1e6:.3f} ms after the crossing")
    assert 0 < latency <= PERIOD_NS  # within one sample period (12.5 ms) of simulated time
    assert 0 < _after(buzzer, 1, crossing) - crossing <= PERIOD_NS
    # it ends once the condition has been false for 100 ms: on the first conversion read at
    # least 100 ms after the last one at the limit (each is read within 1 ms of being ready)
    last_hit = max(e.num(1) for e in drdy if e.num(2) >= 10_000)
    released = _after(motor, 0, last_hit) - last_hit
    assert 100 * MS <= released <= 100 * MS + PERIOD_NS + 1 * MS
    assert [v for v, _ in motor if v == 1] == [1]  # one alert, no flicker
    assert r.samples() == script.samples  # and it kept streaming meanwhile


def test_motor_follows_haptic(run) -> None:
    r = run(Script().repeat(1200, 5000), realtime=True)  # 15 s of simulated time at most
    r.host.send((FrameType.HELLO, b""))
    board = r.board
    wait_until(lambda: len(r.of(DeviceInfo)) >= 2, timeout=60)  # booted, HELLO answered

    def command(pattern: int) -> int:
        """Send HAPTIC; returns the simulated time its first byte reached the UART. Its 13 bytes
        (11, COBS and the delimiter) then take 1.13 ms on the wire at 115 200 baud."""
        before = len(board.of("rx"))
        r.host.send((FrameType.HAPTIC, haptic_payload(pattern)))
        board.wait_for(lambda e, n=before + 13: e.kind == "rx" and len(board.of("rx")) >= n)
        return board.of("rx")[before].num(0)

    def level_after(level: int, t_ns: int) -> int:
        board.wait_for(lambda e: e.kind == "pin" and e.args[0] == "motor" and e.num(2) >= t_ns)
        return _after(r.pins("motor"), level, t_ns)

    on = command(Haptic.CONTINUOUS)
    assert level_after(1, on) - on < 2 * MS
    off = command(Haptic.OFF)
    assert level_after(0, off) - off < 2 * MS

    caution = command(Haptic.CAUTION)  # 200 ms on, 800 ms off
    board.wait_for(lambda e: e.kind == "drdy" and e.num(1) > caution + 2_300 * MS)
    pulses = [t for v, t in r.pins("motor") if t >= caution]
    levels = [v for v, t in r.pins("motor") if t >= caution]
    assert levels[:5] == [1, 0, 1, 0, 1]
    assert pulses[0] - caution < 2 * MS
    for start, stop in zip(pulses[0::2], pulses[1::2], strict=False):
        assert abs((stop - start) - 200 * MS) < 1 * MS
    assert abs((pulses[2] - pulses[0]) - 1000 * MS) < 1 * MS

    reserved = command(7)  # reserved values act as continuous
    board.wait_for(lambda e: e.kind == "drdy" and e.num(1) > reserved + 1_500 * MS)
    assert r.pins("motor")[-1][0] == 1
    assert all(v == 1 for v, t in r.pins("motor") if t > reserved + 2 * MS)
    off = command(Haptic.OFF)
    assert level_after(0, off) - off < 2 * MS


def test_hello_answers_info_and_the_button_is_debounced(run) -> None:
    bounce = Script().repeat(160, 0)  # 2 s
    for at, pressed in [(500, 1), (501.5, 0), (502, 1), (503, 0), (504, 1), (900, 0), (901, 1)]:
        bounce.button(at, bool(pressed))
    bounce.button(902, False)
    r = run(bounce)
    r.host.send((FrameType.HELLO, b""))
    r.board.wait_end()
    infos = r.of(DeviceInfo)
    assert len(infos) == 2  # at power-up, and in answer to HELLO
    assert infos[0].device_id == infos[1].device_id and infos[0].device_id.startswith("PG-")
    assert infos[1].rate_hz == 80
    assert not r.of(ClockReset)  # the answer to HELLO kept the current seq (not 0)
    buttons = r.of(ButtonEvent)
    assert [b.pressed for b in buttons] == [True, False]
    # dated at the start of the steady contact (device clock ≈ simulated time)
    assert abs(buttons[0].t - 0.504) < 1e-3
    assert abs(buttons[1].t - 0.902) < 1e-3


def test_saturation_and_a_silent_adc_are_flagged(run) -> None:
    script = Script().repeat(40, 100).sample(8_388_607).repeat(40, 200).stall(10)
    script.repeat(40, 300)
    r = run(script)
    r.host.send((FrameType.HELLO, b""))
    r.board.wait_end()
    assert r.samples() == script.samples
    readings = [x for x in r.host.read() if not isinstance(x, DeviceInfo)]
    statuses = [x for x in readings if isinstance(x, DeviceStatus)]
    assert any(s.saturated for s in statuses)
    fault = next(i for i, x in enumerate(readings) if isinstance(x, DeviceStatus) and x.adc_fault)
    back = next(
        i
        for i, x in enumerate(readings)
        if i > fault and isinstance(x, DeviceStatus) and not x.adc_fault
    )
    before = [int(v) for x in readings[:fault] if isinstance(x, SampleBatch) for v in x.raw]
    during = [x for x in readings[fault:back] if isinstance(x, SampleBatch)]
    assert before == script.samples[:81]  # all read before the stall went out first
    assert during == []  # no SAMPLES while the ADC is not responding


def test_a_module_left_at_10_sps_is_followed(run) -> None:
    script = Script(rate=10, first_ms=100).sample(*range(11, 31))
    r = run(script)
    r.host.send((FrameType.HELLO, b""))
    r.board.wait_end()
    assert r.samples() == script.samples
    assert r.of(DeviceInfo)[-1].rate_hz == 10
    assert all(b.period_s is None for b in r.of(SampleBatch))  # period "unknown" at 10 SPS
    last_sample = max(b.t[-1] for b in r.of(SampleBatch))
    faults = [s for s in r.of(DeviceStatus) if s.adc_fault]
    assert faults  # when the script ends …
    assert all(s.t > last_sample + 0.3 for s in faults)  # … never between 100 ms conversions


def test_watchdog_resets_a_frozen_firmware_once_and_it_comes_back(run) -> None:
    r = run(Script().repeat(160, 42).hang(1000))  # 2 s of conversions; frozen at 1 s
    r.host.send((FrameType.HELLO, b""))
    r.board.wait_end()
    hang = r.board.of("hang")[0].num(0)
    resets = r.board.of("reset")
    assert len(resets) == 1  # no reset loop: the start-up turns the watchdog off first
    assert 240 * MS <= resets[0].num(0) - hang <= 300 * MS  # WDTO_250MS
    assert len(r.of(ClockReset)) == 1  # the host sees the restart (INFO with seq 0)
    after = [b for b in r.of(SampleBatch) if b.t[0] > 0 and b.t[0] < 0.9]
    assert after  # samples again after the restart
    reads_after: list[Event] = [e for e in r.board.of("read") if e.num(1) > resets[0].num(0)]
    assert len(reads_after) > 40
    wdtcsr = int(r.board.of("wdtcsr")[0].args[0], 16)
    assert wdtcsr & 0x08 and wdtcsr & 0x27 == 0x04  # armed again, 250 ms
