"""The ``pressureguard`` command line: argument parsing, one clear line per error, exit codes.

Every command takes ``--data-dir`` (default: ``PRESSUREGUARD_HOME`` or the platform's user data
dir). Errors the user can act on are printed as one line; anything unexpected is logged with its
traceback to ``DATA_DIR/logs/pressureguard.log`` and reported as one line pointing there.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import traceback
from pathlib import Path

from firmware_bridge import __version__
from firmware_bridge.cli import (
    ble_sim,
    calibrate,
    demo,
    devices,
    doctor,
    limits,
    record,
    report,
    serve,
    sessions,
    store,
    units,
)
from firmware_bridge.errors import NotFoundError, PressureGuardError, UsageError
from firmware_bridge.store import default_data_dir

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _options(*, top: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after the command's name.

    Only the top level has defaults: a subcommand's default would overwrite a value given before
    the command (``pressureguard --data-dir D units kgf`` would silently use the default dir).
    """
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--data-dir",
        type=Path,
        default=None if top else argparse.SUPPRESS,
        help="where sessions and settings live",
    )
    options.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="more log output",
    )
    return options


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, built once per process (building it costs more than most
    commands take; parsing never changes it)."""
    common = _options(top=False)
    parser = argparse.ArgumentParser(
        prog="pressureguard",
        description="Pressure feedback for self-massage with a load-cell tool.",
        parents=[_options(top=True)],
    )
    parser.add_argument("--version", action="version", version=f"pressureguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo.add_parser(sub, common)
    serve.add_parser(sub, common)
    record.add_parser(sub, common)
    sessions.add_parser(sub, common)
    limits.add_parser(sub, common)
    devices.add_parser(sub, common)
    report.add_parser(sub, common)
    calibrate.add_parser(sub, common)
    units.add_parser(sub, common)
    doctor.add_parser(sub, common)
    store.add_parser(sub, common)
    ble_sim.add_parser(sub, common)
    return parser


class _OneLine(logging.Formatter):
    """Console log lines: the message only. Tracebacks go to the log file, never the screen."""

    def format(self, record: logging.LogRecord) -> str:
        return f"pressureguard: {record.getMessage()}"


def _setup_logging(verbose: int, data_dir: Path) -> Path | None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    # A log file on a full disk must not print "--- Logging error ---" tracebacks on screen.
    logging.raiseExceptions = False
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(_OneLine())
    root.addHandler(console)
    log_path = data_dir / "logs" / "pressureguard.log"
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return log_path


def _line(exc: object) -> str:
    """An error on one line, whatever the user typed into it (a file name with a line break, a
    profile name with a control character): every character that is not printable is escaped."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(exc)
    )


def _refuse_bare_dashes(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An option whose value is ``--`` alone (``-o--``, ``--output=--``) is refused, as a missing
    value is: argparse (Python 3.11) drops the ``--`` and hands the command an empty list instead
    of a value (found by the command-line fuzzer: "'list' object has no attribute 'suffix'")."""
    for name, value in vars(args).items():
        if isinstance(value, list) and (not value or any(isinstance(v, list) for v in value)):
            parser.error(f"argument --{name.replace('_', '-')}: expected a value, not '--'")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pressureguard`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _refuse_bare_dashes(parser, args)
    try:
        args.data_dir = (args.data_dir or default_data_dir()).expanduser()
    except RuntimeError:  # ~name of no user on this machine, in --data-dir or PRESSUREGUARD_HOME
        named = args.data_dir or os.environ.get("PRESSUREGUARD_HOME")
        where = "argument --data-dir" if args.data_dir else "PRESSUREGUARD_HOME"
        parser.error(f"{where}: no such user's home folder: {named}")
    log_path = _setup_logging(args.verbose, args.data_dir)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `pressureguard … | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("pressureguard: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UsageError, NotFoundError) as exc:
        print(f"pressureguard: {_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except PressureGuardError as exc:
        print(f"pressureguard: {_line(exc)}", file=sys.stderr)
        return int(getattr(exc, "exit_code", EXIT_ERROR))
    except Exception as exc:  # the last line of defence: never a traceback on screen
        where = ""
        if log_path is not None:
            try:
                with log_path.open("a", encoding="utf-8") as fh:
                    fh.write(traceback.format_exc())
                where = f"; details in {log_path}"
            except OSError:
                pass
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            # The system refused a file the user named (a name too long for it, say): say so
            # plainly; a command that should have checked it first is in the log.
            text = f"cannot use {exc.filename}: {exc.strerror}"
        else:
            text = f"unexpected error: {exc}"
        print(f"pressureguard: {_line(text)}{where}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
