"""Fuzzing the command line in-process: ``firmware_bridge.cli.main(argv)`` with hostile arguments.

Every argument list ends one of two ways: argparse refuses it (exit 2, its usage line and one
error line), or ``main`` returns 0, 1, 2 (or 130); on a non-zero return every line on stderr is
one of ours (``pressureguard: …``), the last one says what went wrong, and none is the "unexpected
error" of the last line of defence, nor a traceback.

Commands that start servers, scan for Bluetooth or wait for a person (``demo``, ``run``,
``dashboard``, ``bridge``, ``devices``, ``ble-sim``, the calibration and measurement wizards) are
left out; ``record`` runs on sources that end by themselves or fail at once. Every file an
argument names is inside this test's own folder (the test runs as root on CI).

A case is a short sequence of commands (make a profile, then list it) run on the folder as it was
seeded: every case starts from the same store, so its outcome is its own and a failure replays.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.cli import main
from tests.fuzz.conftest import Tally, fuzz_settings

#: command → (positional argument kinds, options with a value kind; "" for a flag)
COMMANDS: dict[tuple[str, ...], tuple[list[str], dict[str, str]]] = {
    ("sessions", "list"): ([], {"--json": "", "--profile": "text", "--region": "region",
                                "--from": "day", "--to": "day"}),
    ("sessions", "show"): (["id"], {"--json": ""}),
    ("sessions", "export"): (["id"], {"--format": "text", "-o": "path", "--output": "path"}),
    ("sessions", "import"): (["file"], {}),
    ("sessions", "delete"): (["id"], {}),
    ("limits", "show"): ([], {"--profile": "text", "--json": ""}),
    ("limits", "set"): (["region", "force"], {"--profile": "text", "--tip": "text",
                                              "--tip-area": "number", "--override-ceiling": ""}),
    ("limits", "profile"): (["text"], {"--sensitive": "", "--no-sensitive": "",
                                       "--precaution": "text", "--no-precautions": ""}),
    ("units",): (["unit"], {}),
    ("store", "check"): ([], {"--full": "", "--json": ""}),
    ("calibrate", "show"): ([], {"--json": ""}),
    ("record",): (["source"], {"--duration": "number", "--limit": "force", "--region": "region",
                               "--profile": "text", "--tip": "text", "--baud": "number",
                               "--format": "text", "--text-field": "number",
                               "--text-label": "text", "--text-unit": "unit", "--json": "",
                               "--quiet": "", "--capture": "path"}),
    ("report",): ([], {"--profile": "text", "--from": "day", "--to": "day", "-o": "path",
                       "--png": "path"}),
}  # fmt: skip
COMMON = {"-v": "", "--help": "", "--version": ""}
SOURCES = ["sim://?speed=0&duration=0.3", "sim://?speed=0&duration=0.2&rate=1000", "foo://bar",
           "sim://?pattern=nope", "replay://missing.bin", "replay://missing.csv?speed=0", "",
           "sim://?speed=0&duration=0.2&limit=1e20", "/nonexistent/ttyX"]  # fmt: skip
MAX_COMMANDS = 3  # per case
HOSTILE = ["", " ", "\x00", "é", "%s", "-1", "nan", "inf", "1e999", "'; DROP TABLE sessions; --",
           "99999999999999999999", "\n", "--", "-"]  # fmt: skip
KIND_VALUES = {
    "text": ["default", "knob", "disc-1cm2", "bleeding", "Ada", "csv", "json", "counts"],
    "region": ["upper-trapezius", "upper-trapezius:left", "Neck Left", "lumbar-paraspinals:up"],
    "day": ["2026-01-01", "2026-13-45", "yesterday", "0001-01-01", "9999-12-31"],
    "number": ["1", "0", "0.5", "30", "1e308", "-0"],
    "force": ["15N", "150kPa", "1.5kgf", "15 parsecs", "0N", "-5N", "1e400N", "10kgf/cm2"],
    "unit": ["kgf", "lbf", "N", "kPa", "g", "kgf/cm2", "counts"],
    "id": ["1", "2", "0", "-1", "42"],
}


@st.composite
def argvs(draw: st.DrawFn, root: Path) -> list[str]:
    """Mostly arguments each command knows, with values ranging from sane to hostile."""

    def value(kind: str) -> str:
        if kind == "path":
            name = draw(st.sampled_from(["out.csv", "out.pdf", "x/y.bin", "dir", "a\nb", "..."]))
            return str(root / name)
        if kind == "file":
            name = draw(st.sampled_from(["import.csv", "import.json", "dir", "missing.csv"]))
            return str(root / name)
        if kind == "source":
            return draw(st.sampled_from(SOURCES))
        pool = KIND_VALUES.get(kind, [])
        return draw(st.sampled_from(pool) | st.sampled_from(HOSTILE) | st.text(max_size=8))

    command = draw(st.sampled_from(sorted(COMMANDS)))
    positional, options = COMMANDS[command]
    argv = list(command)
    for kind in positional:
        if draw(st.integers(0, 9)):  # now and then one is missing
            argv.append(value(kind))
    for _ in range(draw(st.integers(0, 4))):
        pick = draw(st.integers(0, 9))
        if pick < 8 and options:
            option = draw(st.sampled_from(sorted(options)))
            argv.append(option)
            if options[option]:
                argv.append(value(options[option]))
        elif pick == 8:
            argv.append(draw(st.sampled_from(sorted(COMMON))))
        else:
            argv.append(draw(st.sampled_from(HOSTILE) | st.text(max_size=6)))
    return argv


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliFolder]:
    """The seeded folder, with the home folder pointed into it for the module's tests."""
    previous = os.environ.get("PRESSUREGUARD_HOME")
    try:
        yield CliFolder(tmp_path_factory.mktemp("cli"))
    finally:
        if previous is None:
            os.environ.pop("PRESSUREGUARD_HOME", None)
        else:
            os.environ["PRESSUREGUARD_HOME"] = previous


class CliFolder:
    """A folder seeded once (one recorded session, files to import, ``PRESSUREGUARD_HOME``
    pointed inside it and left set) and put back as seeded before every case.

    Without the reset the store grows with every case: after a few thousand, each command read
    thousands of sessions and profiles (libFuzzer's rate fell from 128 to 2 cases a second), and
    a failure depended on every case before it, so it could not be replayed.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "dir").mkdir(parents=True)
        (root / "import.csv").write_text("t_s,force_n\n0,1\n0.0125,2\n")
        (root / "import.json").write_text('{"samples": {"t_s": [0], "force_n": [1]}}')
        os.environ["PRESSUREGUARD_HOME"] = str(root / "home")
        seeded = _run(["record", "sim://?speed=0&duration=1", "--data-dir", str(root / "home")])
        assert seeded[0] == 0, seeded
        self._seeded = root.with_name(f"{root.name}-seeded")
        shutil.copytree(root, self._seeded)

    def reset(self) -> None:
        """Everything in the folder as it was seeded (the folder itself stays: it may be the
        working directory)."""
        for child in self.root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        shutil.copytree(self._seeded, self.root, dirs_exist_ok=True)


def _run(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` with stdout and stderr caught; returns (exit code, stderr)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help, --version or a usage error
                code = -1 if exc.code in (0, None) else int(exc.code) + 1000
    finally:
        for handler in root.handlers[len(handlers) :]:  # main() adds its own each call
            root.removeHandler(handler)
            handler.close()
        root.handlers[:] = handlers
    return code, err.getvalue()


def test_cli_arguments(cli_folder: CliFolder, tally: Tally) -> None:
    @given(sequence=st.lists(argvs(cli_folder.root), min_size=1, max_size=MAX_COMMANDS))
    @fuzz_settings(150, deadline=timedelta(seconds=90))  # a PDF report takes seconds
    def case(sequence: list[list[str]]) -> None:
        tally()
        cli_folder.reset()
        for argv in sequence:
            cli_case(argv)

    case()


def cli_case(argv: list[str]) -> None:
    """``main(argv)``: argparse's refusal, success, or our own one-line errors."""
    code, err = _run(argv)
    assert "Traceback" not in err, err
    if code == -1:
        return  # --help / --version
    if code >= 1000:  # argparse refused the arguments
        assert code == 1002, (argv, code, err)
        return
    assert code in (0, 1, 2, 130), (argv, code, err)
    if code == 0:
        return
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, (argv, "an error exit with nothing said")
    assert all(line.startswith("pressureguard: ") for line in lines), (argv, err)
    assert "unexpected error" not in err, (argv, err)
