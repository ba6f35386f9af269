"""``pressureguard run SOURCE``, ``dashboard`` and ``bridge SOURCE``: the tool served live."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from firmware_bridge.ble import HCI_ENV
from firmware_bridge.bridge import Bridge
from firmware_bridge.cli.record import (
    add_session_arguments,
    add_source_arguments,
    bridge_options,
    run_until_signalled,
    seconds,
)
from firmware_bridge.launcher import Launcher, free_port
from firmware_bridge.store import Store


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the dashboard listens."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8501, or a free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--duration", type=seconds, metavar="S", help="stop after S seconds")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``run``, ``dashboard`` and ``bridge``."""
    run_p = sub.add_parser("run", parents=[common], help="bridge + dashboard for a tool")
    add_source_arguments(run_p)
    add_session_arguments(run_p)
    add_server_arguments(run_p)
    run_p.set_defaults(func=cmd_run)

    dash = sub.add_parser("dashboard", parents=[common], help="the dashboard alone, on the store")
    add_server_arguments(dash)
    dash.set_defaults(func=cmd_dashboard)

    bridge = sub.add_parser(
        "bridge",
        parents=[common],
        help="serve a tool for the dashboard (what `run` starts)",
        description="Serve a tool headless: live feed always, sessions when the dashboard asks.",
    )
    add_source_arguments(bridge)
    add_session_arguments(bridge)
    bridge.set_defaults(func=cmd_bridge)


def bridge_argv(args: argparse.Namespace, data_dir: Path) -> list[str]:
    """The ``bridge`` command line that ``run`` supervises, with the user's options."""
    argv = [sys.executable, "-m", "firmware_bridge.cli", "bridge", args.source]
    argv += ["--data-dir", str(data_dir), "--baud", str(args.baud), "--format", args.format]
    argv += ["--text-unit", args.text_unit, "--profile", args.profile]
    for flag, value in (
        ("--text-field", args.text_field),
        ("--text-label", args.text_label),
        ("--region", args.region),
        ("--tip", args.tip),
        ("--limit", args.limit),
        ("--capture", args.capture),
        ("--ble-hci", args.ble_hci),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if args.lsl:
        argv.append("--lsl")
    return argv


def launch(args: argparse.Namespace, data_dir: Path, bridge: list[str] | None) -> int:
    """Run the launcher with the server options in ``args``."""
    port = args.port or free_port(args.host, 8501)
    launcher = Launcher(
        data_dir=data_dir,
        bridge_argv=bridge,
        host=args.host,
        port=port,
        open_browser=not args.no_browser,
        announce=lambda text: print(text, flush=True),
    )
    if args.duration:
        signal.signal(signal.SIGALRM, lambda *_: launcher.stop())
        signal.setitimer(signal.ITIMER_REAL, args.duration)
    return launcher.run()


def cmd_run(args: argparse.Namespace) -> int:
    """Bridge + dashboard for a real tool."""
    bridge_options(args, record_session=False)  # a malformed option fails here, not in the child
    if args.ble_hci:  # the dashboard must know the bridge holds that controller (no scans there)
        os.environ[HCI_ENV] = args.ble_hci
    return launch(args, args.data_dir, bridge_argv(args, args.data_dir))


def cmd_dashboard(args: argparse.Namespace) -> int:
    """The dashboard alone."""
    return launch(args, args.data_dir, None)


def cmd_bridge(args: argparse.Namespace) -> int:
    """Serve the tool until SIGTERM/Ctrl-C."""
    with Store.open(args.data_dir) as store:
        run_until_signalled(Bridge(store, bridge_options(args, record_session=False)))
    return 0
