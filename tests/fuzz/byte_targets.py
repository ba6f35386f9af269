"""Every fuzzer again as a byte-level target for atheris (libFuzzer): the million-case long run.

Hypothesis builds rich cases, but spends nearly all its time building them: a few hundred cases
a second here, where the checks themselves take a fiftieth of that. libFuzzer mutates bytes,
guided by the coverage of PressureGuard's own code, at thousands of cases a second. Each target
reads its case out of the bytes (:class:`Cursor`) and runs the same check as its hypothesis twin
(the ``*_case`` functions of the test modules). Its seeds are cases drawn from the twin's own
strategies and written the same way (:class:`Writer`), so the mutations start from well-formed
frames, files, command rows and argument lists. ``reliability.fuzz`` runs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol.frames import crc16, frame_serial
from firmware_bridge.protocol.text import TextOptions
from tests.fuzz import test_fuzz_cli as cli
from tests.fuzz import test_fuzz_commands as commands
from tests.fuzz import test_fuzz_decoders as decoders
from tests.fuzz import test_fuzz_import as imports
from tests.fuzz import test_fuzz_sources as sources

T = TypeVar("T")

#: Cases drawn from each strategy as seeds.
SEEDS = 200
#: Chunk cut points, as the hypothesis fuzzers draw them.
MAX_CUTS, CUT_RANGE = 12, 10_001


class Cursor:
    """Reads a case out of bytes; past the end every read is zero or empty (never an error)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer at the end)."""
        out = self._data[self._at : self._at + n]
        self._at += len(out)
        return out

    def byte(self) -> int:
        return int.from_bytes(self.take(1) or b"\0", "little")

    def u16(self) -> int:
        return int.from_bytes(self.take(2).ljust(2, b"\0"), "little")

    def small(self) -> bytes:
        """Bytes preceded by a one-byte length."""
        return self.take(self.byte())

    def chunk(self) -> bytes:
        """Bytes preceded by a two-byte length."""
        return self.take(self.u16())

    def text(self) -> str:
        return self.small().decode("utf-8", "replace")

    def cuts(self) -> list[int]:
        return [self.u16() % CUT_RANGE for _ in range(self.byte() % (MAX_CUTS + 1))]

    def rest(self) -> bytes:
        return self.take(len(self._data))

    def more(self) -> bool:
        return self._at < len(self._data)


class Writer:
    """Writes a case the way :class:`Cursor` reads it back (seeds)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def byte(self, value: int) -> Writer:
        self.data += bytes([value & 0xFF])
        return self

    def u16(self, value: int) -> Writer:
        self.data += (value & 0xFFFF).to_bytes(2, "little")
        return self

    def small(self, data: bytes) -> Writer:
        return self.byte(len(data[:255])).raw(data[:255])

    def chunk(self, data: bytes) -> Writer:
        return self.u16(len(data[:0xFFFF])).raw(data[:0xFFFF])

    def text(self, text: str) -> Writer:
        return self.small(text.encode("utf-8", "replace"))

    def cuts(self, cuts: list[int]) -> Writer:
        self.byte(len(cuts[:MAX_CUTS]))
        for cut in cuts[:MAX_CUTS]:
            self.u16(cut % CUT_RANGE)
        return self

    def raw(self, data: bytes) -> Writer:
        self.data += data
        return self


def drawn(strategy: st.SearchStrategy[T], n: int = SEEDS) -> list[T]:
    """``n`` cases drawn from a hypothesis strategy (for seeds)."""
    out: list[T] = []

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value: T) -> None:
        out.append(value)

    collect()
    return out


class Stateless:
    """A target that needs nothing set up in its scratch folder."""

    def __init__(self, folder: Path) -> None:
        del folder


# -- decoders --------------------------------------------------------------------------------------


def _framed(cursor: Cursor) -> bytes:
    """Bodies without their CRC, each given a correct CRC and framed: mutations reach the frame
    parsers instead of dying at the CRC check."""
    out = bytearray()
    while cursor.more():
        head = cursor.small()
        out += frame_serial(head + struct.pack("<H", crc16(head)))
    return bytes(out)


class BinaryStream(Stateless):
    """``test_binary_stream``: a serial stream as it is, or rebuilt from CRC-less bodies."""

    max_len = 4096

    def seeds(self) -> Iterator[bytes]:
        strategy = st.tuples(decoders.mutated_streams(), st.lists(st.integers(0, 10_000)))
        for stream, cuts in drawn(strategy):
            yield bytes(Writer().byte(0).cuts(cuts).raw(stream).data)
        for bodies in drawn(st.lists(decoders.bodies(), max_size=8), SEEDS // 2):
            writer = Writer().byte(1).cuts([])
            for body in bodies:
                writer.small(body[:-2])
            yield bytes(writer.data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        framed, cuts = cursor.byte() & 1, cursor.cuts()
        decoders.binary_stream_case(_framed(cursor) if framed else cursor.rest(), cuts)


class BinaryBodies(Stateless):
    """``test_binary_bodies``: BLE notifications, each with its CRC kept or made right."""

    max_len = 4096

    def seeds(self) -> Iterator[bytes]:
        for bodies in drawn(st.lists(decoders.bodies(), max_size=12)):
            writer = Writer()
            for body in bodies:
                writer.byte(1).small(body[:-2])
            yield bytes(writer.data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        bodies = []
        while cursor.more():
            fix_crc, body = cursor.byte() & 1, cursor.small()
            bodies.append(body + struct.pack("<H", crc16(body)) if fix_crc else body)
        decoders.binary_bodies_case(bodies)


DETECT_FORMATS = ("auto", "binary", "text")


class DetectingDecoder(Stateless):
    """``test_detecting_decoder``: binary or text streams under ``--format``."""

    max_len = 4096
    #: libFuzzer's own bookkeeping grows on text; without it memory is flat (``--plain``)
    rss_limit_mb = 8192

    def seeds(self) -> Iterator[bytes]:
        streams = st.one_of(decoders.mutated_streams(), decoders.text_streams())
        strategy = st.tuples(streams, st.lists(st.integers(0, 10_000), max_size=8))
        for i, (stream, cuts) in enumerate(drawn(strategy)):
            yield bytes(Writer().byte(i).cuts(cuts).raw(stream).data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        fmt, cuts = DETECT_FORMATS[cursor.byte() % 3], cursor.cuts()
        decoders.detecting_case(cursor.rest(), cuts, fmt)


#: The option sets ``test_text_lines`` draws from.
TEXT_OPTIONS = [
    *(TextOptions(unit=u) for u in ("counts", "g", "kg", "N", "lbf", "LBF")),
    *(TextOptions(field=f) for f in range(1, 7)),
    *(TextOptions(label=label) for label in ("weight", "w", "HX711", "a.b", "(x)", "é")),
]


class TextLines(Stateless):
    """``test_text_lines``: lines under any option set, arrival times that may run backwards."""

    max_len = 4096
    #: libFuzzer's own bookkeeping grows on text; without it memory is flat (``--plain``)
    rss_limit_mb = 8192

    def seeds(self) -> Iterator[bytes]:
        strategy = st.tuples(decoders.text_streams(), st.lists(st.integers(0, 10_000)))
        for i, (stream, cuts) in enumerate(drawn(strategy)):
            writer = Writer().byte(i).byte(i // 7).byte(3)
            for t in (0, 40, 20):
                writer.u16(t)
            yield bytes(writer.cuts(cuts).raw(stream).data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        options = TEXT_OPTIONS[cursor.byte() % len(TEXT_OPTIONS)]
        at_start = bool(cursor.byte() & 1)
        times = [(cursor.u16() - 0x8000) * 0.01 for _ in range(1 + cursor.byte() % 10)]
        cuts = cursor.cuts()
        decoders.text_lines_case(cursor.rest(), cuts, times, options, at_start)


class TextOptionsTarget(Stateless):
    """``test_text_options``: ``--text-field``, ``--text-label``, ``--text-unit``."""

    max_len = 64

    def seeds(self) -> Iterator[bytes]:
        for label in (None, "weight", "w:", "(x"):
            for field in (None, 1, 3, -1, 0):
                for unit in ("g", "kg", "N", "lbf", "counts", "bogus"):
                    writer = Writer().byte(0xFF if field is None else field + 5)
                    writer.byte(label is not None).text(label or "").text(unit)
                    yield bytes(writer.data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        raw_field = cursor.byte()
        field = None if raw_field == 0xFF else raw_field - 5
        has_label = cursor.byte() & 1
        label = cursor.text()
        decoders.text_options_case(field, label if has_label else None, cursor.text())


class ProgressorNotifications(Stateless):
    """``test_progressor_notifications``: notifications, each after a request or none."""

    max_len = 4096

    def seeds(self) -> Iterator[bytes]:
        strategy = st.lists(st.tuples(decoders.notifications(), decoders.requests), max_size=20)
        for notes in drawn(strategy):
            writer = Writer()
            for note, request in notes:
                writer.small(note).byte(request is not None).small(request or b"")
            yield bytes(writer.data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        notes: list[tuple[bytes, bytes | None]] = []
        while cursor.more():
            note, asked, request = cursor.small(), cursor.byte() & 1, cursor.small()
            notes.append((note, request if asked else None))
        decoders.progressor_case(notes)


# -- source strings, import, commands, the command line --------------------------------------------


class SourceStringsParse(Stateless):
    """``test_source_strings_parse``: any string through the registry and each kind's parser."""

    max_len = 256

    def seeds(self) -> Iterator[bytes]:
        for url in drawn(sources.source_strings, 2 * SEEDS):
            yield url.encode("utf-8", "replace")

    def __call__(self, data: bytes) -> None:
        sources.parse_case(data.decode("utf-8", "replace"))


class SourceStringsOpen:
    """``test_source_strings_open``: strings opened where that is harmless here."""

    max_len = 256

    def __init__(self, folder: Path) -> None:
        self._replays = sources.make_replay_dir(folder)

    def seeds(self) -> Iterator[bytes]:
        for url in drawn(sources.openable_strings, 2 * SEEDS):
            yield url.encode("utf-8", "replace")

    def __call__(self, data: bytes) -> None:
        sources.open_case(data.decode("utf-8", "replace"), self._replays)


IMPORT_SUFFIXES = (".csv", ".json", ".CSV", ".txt")


class ImportAnyFile:
    """``test_import_any_file``: any file bytes under any of the suffixes."""

    max_len = 16_384

    def __init__(self, folder: Path) -> None:
        self._stack = contextlib.ExitStack()
        self._stores = self._stack.enter_context(imports.import_store(folder))

    def seeds(self) -> Iterator[bytes]:
        good = json.loads(self._stores[2]["json"])
        for i, text in enumerate(drawn(imports.csv_texts()) + drawn(imports.json_texts(good))):
            yield bytes([i % len(IMPORT_SUFFIXES)]) + text
        for data in self._stores[2].values():
            yield b"\0" + data
            yield b"\1" + data

    def __call__(self, data: bytes) -> None:
        suffix = IMPORT_SUFFIXES[Cursor(data).byte() % len(IMPORT_SUFFIXES)]
        imports.import_case(self._stores, data[1:], suffix)


class HostileCommands:
    """``test_hostile_commands``: command rows posted through the store's API or written raw."""

    max_len = 2048

    def __init__(self, folder: Path) -> None:
        self._stack = contextlib.ExitStack()
        self._served = self._stack.enter_context(commands.serving(folder))

    def seeds(self) -> Iterator[bytes]:
        for rows in drawn(st.lists(commands.command_rows(), min_size=1, max_size=4)):
            writer = Writer()
            for kind, args, raw in rows:
                text = commands._raw_json(args) if raw is None else raw
                writer.byte(raw is not None).text(kind).chunk(text.encode("utf-8", "replace"))
            yield bytes(writer.data)

    def __call__(self, data: bytes) -> None:
        cursor = Cursor(data)
        rows: list[tuple[str, Any, str | None]] = []
        while cursor.more() and len(rows) < 8:
            as_written, kind = cursor.byte() & 1, cursor.text()
            text = cursor.chunk().decode("utf-8", "replace")
            rows.append((kind, None, text) if as_written else (kind, _json_or_text(text), None))
        if rows:
            commands.commands_case(self._served, rows)


def _json_or_text(text: str) -> Any:
    """What the dashboard would post: the parsed JSON, else the text itself."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


#: First words of the commands the command-line fuzzer may run (nothing that serves, scans or
#: waits for a person), each with the second words it allows.
CLI_COMMANDS: dict[str, set[str]] = {}
for _words in cli.COMMANDS:
    CLI_COMMANDS.setdefault(_words[0], set()).update(_words[1:2])


#: One case in this many (chosen by the input's checksum, so a failure replays) renders a report's
#: figures into its PDF and PNG files; in the others the report is planned and its pages laid out
#: and drawn by PressureGuard's code, but matplotlib does not render them into the files (they
#: stay empty). Rendering is matplotlib's and fontTools's work, the same for any arguments: 0.4 s
#: for a PDF's pages plus 0.74 s of font subsetting, 1.5 s for PNG pages. With reports in 3-7 %
#: of cases it held the target to 40 cases a second a process.
FIGURES_RENDERED_ONE_IN = 32


@contextlib.contextmanager
def figures_rendered(render: bool) -> Iterator[None]:
    """Figures saved meanwhile are rendered into their files, or (``render`` false) not."""
    if render:
        yield
        return
    from matplotlib.figure import Figure

    savefig = Figure.savefig
    Figure.savefig = lambda *_args, **_kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Figure.savefig = savefig  # type: ignore[method-assign]


class CliArguments:
    """``test_cli_arguments``: up to three commands, split at 0x01 bytes, their arguments at NUL
    bytes, kept inside the fuzz folder; each case on the folder as it was seeded (a report's
    figures are rendered into its files in one case of :data:`FIGURES_RENDERED_ONE_IN`)."""

    max_len = 512
    timeout_s = 90  # a PDF report takes seconds

    def __init__(self, folder: Path) -> None:
        self._root = folder / "cli"  # a folder of its own: the reset empties it
        self._folder = cli.CliFolder(self._root)
        os.chdir(self._root)  # relative paths land in the fuzz folder too

    def seeds(self) -> Iterator[bytes]:
        strategy = st.lists(cli.argvs(self._root), min_size=1, max_size=cli.MAX_COMMANDS)
        for sequence in drawn(strategy, 2 * SEEDS):
            yield b"\1".join("\0".join(argv).encode("utf-8", "replace") for argv in sequence)

    def __call__(self, data: bytes) -> None:
        commands = data.split(b"\1")[: cli.MAX_COMMANDS]
        argvs = [self.contained(c.decode("utf-8", "replace").split("\0")) for c in commands]
        self._folder.reset()
        with figures_rendered(zlib.crc32(data) % FIGURES_RENDERED_ONE_IN == 0):
            for argv in argvs:
                if argv is not None:
                    cli.cli_case(argv)

    def contained(self, argv: list[str]) -> list[str] | None:
        """``argv`` with every path kept inside the fuzz folder and every source one that ends
        by itself; None for a command that serves, scans, or waits for a person."""
        words = CLI_COMMANDS.get(argv[0])
        if words is None or (words and (len(argv) < 2 or argv[1] not in words)):
            return None
        inside = str(self._root) + os.sep
        out = []
        for arg in argv:
            if "://" in arg or arg.startswith("/dev") or arg.lower() == "auto":
                out.append(cli.SOURCES[len(arg) % len(cli.SOURCES)])
            elif (
                ".." in arg or arg.startswith("~") or (os.sep in arg and not arg.startswith(inside))
            ):
                out.append(str(self._root / "x" / "y.bin"))
            else:
                out.append(arg)
        return out


#: Every byte-level target by the name of its hypothesis twin.
TARGETS: dict[str, Callable[[Path], Any]] = {
    "binary_stream": BinaryStream,
    "binary_bodies": BinaryBodies,
    "detecting_decoder": DetectingDecoder,
    "text_lines": TextLines,
    "text_options": TextOptionsTarget,
    "progressor_notifications": ProgressorNotifications,
    "source_strings_parse": SourceStringsParse,
    "source_strings_open": SourceStringsOpen,
    "import_any_file": ImportAnyFile,
    "hostile_commands": HostileCommands,
    "cli_arguments": CliArguments,
}
