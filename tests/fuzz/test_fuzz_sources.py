"""Fuzzing source strings: what ``record SOURCE``, ``run SOURCE`` and the dashboard's source
picker accept.

Every string either names a source (and, where opening it is harmless here, opens and closes) or
is refused with one of PressureGuard's own errors in one line. Nothing here opens a network
connection or a real device: sockets, rfc2217, BLE and ``auto`` are parsed but never opened.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.errors import PressureGuardError, UsageError
from firmware_bridge.sources import KINDS, open_source, source_kind
from firmware_bridge.sources.ble import ble_target
from firmware_bridge.sources.replay import parse_replay_url
from firmware_bridge.sources.sim import parse_sim_url
from tests.fuzz.conftest import Tally, fuzz_settings, one_line

SCHEMES = ["sim", "replay", "ble", "progressor", "loop", "spy", "hwgrep", "socket", "rfc2217",
           "alt", "cp2110", "SIM", "Replay", "foo", "", "file", "http"]  # fmt: skip
SIM_KEYS = ["seed", "rate", "pattern", "limit", "level", "noise", "spf", "device", "speed",
            "duration", "bogus", ""]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "80", "1000", "1e9", "nan", "inf", "-inf", "1e-320", "",
                     "massage", "steady", "x", "99999999999999999999", "0x10", "1_000", " 5"]),
    st.text(max_size=8),
)  # fmt: skip
HOSTILE = st.sampled_from(["\x00", "\n", "%00", "..", "/", "~", "?", "&", "=", "#", "://", " ",
                           "é", "\u202e", "[", "(", "*", "\\"])  # fmt: skip


@st.composite
def sim_urls(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.sampled_from(SIM_KEYS), VALUES), max_size=5))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    return (
        draw(st.sampled_from(["sim://", "sim:///", "SIM://", "sim://x"]))
        + "?" * bool(query)
        + query
    )


@st.composite
def replay_urls(draw: st.DrawFn) -> str:
    name = draw(st.text(max_size=10) | HOSTILE) + draw(st.sampled_from([".bin", ".csv", ".BIN",
                                                                        ".txt", ""]))  # fmt: skip
    query = draw(st.sampled_from(["", "?speed=0", "?speed=-1", "?speed=nan", "?speed=x",
                                  "?foo=1", "?speed=0&speed=1", "?", "?&"]))  # fmt: skip
    return f"replay://{draw(st.sampled_from(['', '/', '~/', '../', '/nonexistent/']))}{name}{query}"


@st.composite
def any_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(SCHEMES))
    rest = draw(st.lists(st.text(max_size=6) | HOSTILE, max_size=5).map("".join))
    sep = draw(st.sampled_from(["://", ":/", ":", "//", ""]))
    return scheme + sep + rest


source_strings = st.one_of(sim_urls(), replay_urls(), any_urls(), st.text(max_size=30))


def refused_cleanly(exc: BaseException, url: str) -> None:
    """One of our errors, in one line (line breaks the user typed in the string aside: the
    command line prints those escaped)."""
    assert isinstance(exc, PressureGuardError), f"{type(exc).__name__}: {exc}"
    message = str(exc)
    for ch in set(url) - set("\t "):
        if not ch.isprintable():
            message = message.replace(ch, "?")
    assert one_line(message), repr(str(exc))


@given(url=source_strings)
@fuzz_settings()
def test_source_strings_parse(url: str, tally: Tally) -> None:
    """The registry, and the parser of each kind, on any string."""
    tally()
    parse_case(url)


def parse_case(url: str) -> None:
    """A kind and a parsed source, or one clear line."""
    try:
        kind = source_kind(url)
    except Exception as exc:
        refused_cleanly(exc, url)
        return
    assert kind in KINDS
    parsers = {
        "sim": parse_sim_url,
        "replay": parse_replay_url,
        "ble": lambda u: ble_target(u, "ble"),
        "progressor": lambda u: ble_target(u, "progressor"),
    }
    if kind in parsers:
        try:
            parsed = parsers[kind](url.strip())
        except Exception as exc:
            refused_cleanly(exc, url)
            return
        if kind == "replay":
            path, speed = parsed
            assert isinstance(path, Path) and math.isfinite(speed) and speed >= 0


def _openable(url: str, root: Path) -> str | None:
    """A string that is safe to open here: the simulator, a replay or serial path inside
    ``root``, pyserial's loop (no network, no real device). None for anything else."""
    kind = source_kind(url)
    text = url.strip()
    if kind == "sim":
        return text
    if kind == "replay":
        rest = text.partition("://")[2]
        return f"replay://{root}/{rest.lstrip('/~.')}"
    if kind == "serial":
        lower = text.lower()
        if lower.startswith(("loop://", "spy://loop://", "alt://loop://")) or text in HWGREP:
            return text
        if "://" not in text:
            return f"{root}/{text.lstrip('/~.')}"  # a device path that is not there
    return None


@pytest.fixture(scope="module")
def replay_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of replay files: empty, junk, a plausible CSV, a truncated capture."""
    return make_replay_dir(tmp_path_factory.mktemp("replays"))


def make_replay_dir(root: Path) -> Path:
    """Replay files in ``root``: empty, junk, a plausible CSV, a folder named like a file."""
    (root / "empty.bin").write_bytes(b"")
    (root / "empty.csv").write_bytes(b"")
    (root / "junk.bin").write_bytes(bytes(range(256)) * 4)
    (root / "junk.csv").write_bytes(b"\xff\xfe\x00 not,a,csv\n")
    (root / "ok.csv").write_text("t_s,force_n\n0,1\n0.0125,1.5\n")
    (root / "dir.csv").mkdir()
    return root


#: Port searches that match nothing (a random pattern might match a real port on this machine).
HWGREP = ("hwgrep://[", "hwgrep://(a", "hwgrep://zzzz-no-such", "hwgrep://zz&n=x")
extra_urls = st.sampled_from([*HWGREP, "loop://", "loop://?logging=foo", "loop://?logging=debug",
                              "loop://?x", "spy://loop://?color", "spy://loop://?file=",
                              "alt://loop://?class=foo",
                              "replay://empty.bin", "replay://empty.csv?speed=0",
                              "replay://junk.bin?speed=0", "replay://junk.csv",
                              "replay://ok.csv?speed=0", "replay://dir.csv",
                              "replay://ok.csv\x00.bin"])  # fmt: skip


openable_strings = st.one_of(extra_urls, sim_urls(), replay_urls(), any_urls())


@given(url=openable_strings)
@fuzz_settings(200)
def test_source_strings_open(url: str, replay_dir: Path, tally: Tally) -> None:
    """Opening: a Source (closed again at once) or one clear line, never anything else."""
    tally()
    open_case(url, replay_dir)


def open_case(url: str, replay_dir: Path) -> None:
    """Opened and closed where that is harmless here, or refused in one line."""
    try:
        target = _openable(url, replay_dir)
    except UsageError:
        return  # refused before opening (checked above)
    if target is None:
        return
    try:
        source = open_source(target)
    except Exception as exc:
        refused_cleanly(exc, url)
        return
    try:
        source.read(0.0)
    except (EOFError, PressureGuardError):
        pass
    finally:
        source.close()
