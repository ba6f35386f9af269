"""``pressureguard doctor``: is this machine ready for the tool? Each check says what to do.

Checks: access to serial ports (the ``dialout`` group on Linux), Bluetooth, a web browser for the
dashboard, the data directory (writable, with room), and the store's health. Every finding is one
line: what was seen and, when something is missing, the exact step that fixes it.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from firmware_bridge.errors import PressureGuardError

Status = Literal["ok", "warn", "fail"]
#: A session at 1 kHz for two hours takes about 150 MB; less room than this is pointed out.
MIN_FREE_BYTES = 500 * 2**20
SERIAL_GLOBS = ("/dev/ttyACM*", "/dev/ttyUSB*")
SERIAL_GROUPS = ("dialout", "uucp")  # Debian/Ubuntu/Fedora; Arch
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "firefox", "xdg-open", "open")


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's outcome.

    Attributes:
        check: what was checked ("serial ports", "bluetooth" ...).
        status: ``ok``, ``warn`` (works without it, or partly) or ``fail`` (fix it to go on).
        seen: what was found, in words.
        fix: what to do about it (empty when nothing is needed).
    """

    check: str
    status: Status
    seen: str
    fix: str = ""

    def line(self) -> str:
        """``✓ check: seen`` or ``✗ check: seen — fix``."""
        mark = {"ok": "✓", "warn": "!", "fail": "✗"}[self.status]
        return f"{mark} {self.check}: {self.seen}" + (f" — {self.fix}" if self.fix else "")


def check_serial() -> Finding:
    """Whether this user may open the tool's USB serial port."""
    if not sys.platform.startswith("linux"):
        return Finding("serial ports", "ok", "no group membership is needed on this system")
    if os.geteuid() == 0:
        return Finding("serial ports", "ok", "running as root: every port can be opened")
    ports = sorted(p for pattern in SERIAL_GLOBS for p in glob.glob(pattern))
    blocked = [p for p in ports if not os.access(p, os.R_OK | os.W_OK)]
    group = _serial_group()
    member = group is not None and _in_group(group)
    if ports and not blocked:
        return Finding("serial ports", "ok", f"{', '.join(ports)} can be opened")
    if member:
        return Finding("serial ports", "ok", f"you are in the {group} group")
    name = group or "dialout"
    seen = (
        f"{', '.join(blocked)} cannot be opened by you"
        if blocked
        else f"you are not in the {name} group, so a plugged-in tool could not be opened"
    )
    fix = f"run `sudo usermod -aG {name} $USER`, then log out and in again"
    return Finding("serial ports", "fail", seen, fix)


def _serial_group() -> str | None:
    import grp  # noqa: PLC0415 - POSIX only

    for name in SERIAL_GROUPS:
        try:
            grp.getgrnam(name)
        except KeyError:
            continue
        return name
    return None


def _in_group(name: str) -> bool:
    import grp  # noqa: PLC0415 - POSIX only

    gid = grp.getgrnam(name).gr_gid
    return gid in os.getgroups() or os.getgid() == gid


def check_bluetooth() -> Finding:
    """Whether a cordless tool can be reached: a bumble transport, or an adapter."""
    transport = os.environ.get("PRESSUREGUARD_BLE_HCI")
    if transport:
        return Finding("bluetooth", "ok", f"BLE through the built-in stack on {transport}")
    if not sys.platform.startswith("linux"):
        return Finding("bluetooth", "ok", "the system's Bluetooth is used")
    adapters = sorted(Path(p).name for p in glob.glob("/sys/class/bluetooth/hci*"))
    if not adapters:
        return Finding(
            "bluetooth", "warn", "no Bluetooth adapter: a USB tool works, a cordless one cannot",
            "plug in a Bluetooth dongle; if the system cannot use it, give it to PressureGuard "
            "directly with --ble-hci usb:0",
        )  # fmt: skip
    if not Path("/run/dbus/system_bus_socket").exists():
        return Finding(
            "bluetooth", "warn", f"adapter {adapters[0]} but no system Bluetooth service",
            "start BlueZ (`sudo systemctl start bluetooth`), or use --ble-hci usb:0",
        )  # fmt: skip
    return Finding("bluetooth", "ok", f"adapter {', '.join(adapters)}")


def check_browser() -> Finding:
    """Whether there is a web browser to show the dashboard in."""
    found = next((b for b in BROWSERS if shutil.which(b)), None)
    if found:
        return Finding("web browser", "ok", f"{found} opens the dashboard")
    return Finding(
        "web browser", "warn", "no web browser found: the dashboard's address is printed instead",
        "install one (Debian/Ubuntu: `sudo apt install chromium`) or open the printed address "
        "on a device that has one",
    )  # fmt: skip


def check_data_dir(data_dir: Path) -> Finding:
    """Whether sessions can be written: the folder exists or can be made, is writable, has room."""
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        return Finding(
            "data directory", "fail", f"{data_dir} cannot be written by you",
            f"choose another with --data-dir (or PRESSUREGUARD_HOME), or run "
            f"`sudo chown -R $USER {existing}`",
        )  # fmt: skip
    free = shutil.disk_usage(existing).free
    room = f"{free / 2**30:.1f} GB free"
    if free < MIN_FREE_BYTES:
        return Finding(
            "data directory", "warn", f"{data_dir}: only {room}",
            "free some space: a two-hour session at 1 kHz takes about 150 MB",
        )  # fmt: skip
    return Finding("data directory", "ok", f"{data_dir} ({room})")


def check_store(data_dir: Path) -> Finding:
    """Whether the session store opens and is intact (the checks every open makes)."""
    from firmware_bridge.store import DB_NAME  # noqa: PLC0415 - sqlite only here
    from firmware_bridge.store.repair import check_store  # noqa: PLC0415

    if not (data_dir / DB_NAME).exists():
        return Finding("store", "ok", "no sessions yet (a new store is made on first use)")
    try:
        report = check_store(data_dir)
    except PressureGuardError as exc:
        return Finding("store", "fail", str(exc))
    if report.ok:
        return Finding("store", "ok", f"intact, {report.sessions} session(s)")
    return Finding(
        "store", "fail", "; ".join(report.problems[:3]),
        "run `pressureguard store repair` to save what can be read",
    )  # fmt: skip


CHECKS: tuple[Callable[[], Finding], ...] = (check_serial, check_bluetooth, check_browser)


def diagnose(data_dir: Path) -> list[Finding]:
    """Every check, in the order they are shown."""
    return [*(check() for check in CHECKS), check_data_dir(data_dir), check_store(data_dir)]
