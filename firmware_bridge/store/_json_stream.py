"""Reading a JSON export without loading it whole.

A first pass walks the top-level object: small values (``format``, ``version``, ``session``) are
parsed with :mod:`json` from a window of the file, and for each array under ``samples`` only
where it starts and ends is kept. The arrays are then read side by side, a block of each at a
time (:class:`ColumnReader`), their items parsed by Arrow; an array's items only ever become
numpy arrays. Messages name the line (for the structure) or the item (``samples.force_n[12]``).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from firmware_bridge.errors import UsageError

#: The most a value other than a sample array may take (the session with its events).
HEAD_LIMIT = 64 << 20
#: Bytes of one array read at a time.
BLOCK = 4 << 20
_WS = b" \t\r\n"
_INNER_WS = re.compile(rb"[^\s,]\s+[^\s,]")
_JSON_NUMBER = re.compile(rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|null")
_DECODER = json.JSONDecoder()


@dataclass
class Layout:
    """The top level of a JSON export: its small values, and where each sample array is."""

    head: dict[str, Any] = field(default_factory=dict)
    #: ``samples`` column → (offset of its first item, offset of its closing bracket).
    arrays: dict[str, tuple[int, int]] = field(default_factory=dict)


class _Scanner:
    """Walks the structure of a JSON file by absolute byte offsets."""

    def __init__(self, fh: IO[bytes], size: int, name: str) -> None:
        self.fh, self.size, self.name = fh, size, name
        self.pos = 0

    def read_at(self, pos: int, n: int) -> bytes:
        self.fh.seek(pos)
        return self.fh.read(max(0, min(n, self.size - pos)))

    def line(self, pos: int) -> int:
        """The line number of a byte offset (read in blocks: only for messages)."""
        count, at = 1, 0
        while at < pos:
            block = self.read_at(at, min(BLOCK, pos - at))
            if not block:
                break
            count += block.count(b"\n")
            at += len(block)
        return count

    def error(self, pos: int, what: str) -> UsageError:
        return UsageError(f"{self.name} line {self.line(pos)}: not valid JSON ({what})")

    def peek(self) -> bytes:
        """The next byte that is not whitespace (b"" at the end); ``pos`` moves to it."""
        while self.pos < self.size:
            block = self.read_at(self.pos, 4096)
            rest = block.lstrip(_WS)
            self.pos += len(block) - len(rest)
            if rest:
                return rest[:1]
        return b""

    def expect(self, char: bytes, what: str) -> None:
        found = self.peek()
        if found != char:
            raise self.error(self.pos, f"expected {what}, found {_shown(found)}")
        self.pos += 1

    def value(self) -> Any:
        """Parse one value of at most :data:`HEAD_LIMIT` bytes at ``pos``."""
        self.peek()
        n = 65536
        while True:
            raw = self.read_at(self.pos, n)
            at_end = self.pos + len(raw) >= self.size
            try:
                text = codecs.getincrementaldecoder("utf-8")().decode(raw, final=at_end)
            except UnicodeDecodeError as exc:
                raise UsageError(
                    f"{self.name} line {self.line(self.pos + exc.start)}: not UTF-8 text"
                ) from None
            try:
                value, end = _DECODER.raw_decode(text)
            except json.JSONDecodeError as exc:
                if at_end:
                    where = self.pos + len(text[: exc.pos].encode())
                    raise self.error(where, exc.msg) from None
                if n >= HEAD_LIMIT:
                    raise UsageError(
                        f"{self.name} line {self.line(self.pos)}: a value over "
                        f"{HEAD_LIMIT >> 20} MB, not a PressureGuard session export"
                    ) from None
                n *= 4
                continue
            except RecursionError:
                raise UsageError(f"{self.name} is not a session export (nested too deep)") from None
            self.pos += len(text[:end].encode())
            return value

    def key(self) -> str:
        if self.peek() != b'"':
            raise self.error(self.pos, "expected a key in double quotes")
        return str(self.value())

    def closing_bracket(self) -> int:
        """The offset of the next ``]`` (an array of numbers or labels holds none)."""
        at = self.pos
        while at < self.size:
            block = self.read_at(at, BLOCK)
            found = block.find(b"]")
            if found >= 0:
                return at + found
            at += len(block)
        raise self.error(self.pos, "a list that never ends")


def _shown(found: bytes) -> str:
    return "the end of the file" if not found else repr(found.decode("latin-1"))


def scan(fh: IO[bytes], size: int, name: str, not_export: str) -> Layout:
    """Walk a JSON export's top level.

    Args:
        fh: the file, open for binary reading.
        size: how many bytes of it to read.
        name: its name, for messages.
        not_export: the message for a file whose top level is not an object.

    Raises:
        UsageError: the structure is not valid JSON, or not an object at the top.
    """
    s = _Scanner(fh, size, name)
    if s.read_at(0, 3) == codecs.BOM_UTF8:
        s.pos = 3
    first = s.peek()
    if first != b"{":
        if first and first in b'["-0123456789tfn':
            raise UsageError(not_export)
        raise s.error(s.pos, f"expected an object, found {_shown(first)}")
    s.pos += 1
    layout = Layout()
    if s.peek() == b"}":
        s.pos += 1
    else:
        while True:
            key = s.key()
            if key in layout.head:
                raise UsageError(f"{name}: key {key!r} appears twice")
            s.expect(b":", "':'")
            if key == "samples" and s.peek() == b"{":
                s.pos += 1
                _scan_samples(s, layout)
            else:
                layout.head[key] = s.value()
            if s.peek() == b",":
                s.pos += 1
                continue
            s.expect(b"}", "',' or '}'")
            break
    rest = s.peek()
    if rest:
        raise s.error(s.pos, "more after the end of the object")
    return layout


def _scan_samples(s: _Scanner, layout: Layout) -> None:
    layout.head["samples"] = {}
    if s.peek() == b"}":
        s.pos += 1
        return
    while True:
        column = s.key()
        if column in layout.arrays:
            raise UsageError(f"{s.name}: samples.{column} appears twice")
        s.expect(b":", "':'")
        if s.peek() != b"[":
            raise UsageError(f"{s.name}: samples.{column} must be a list as long as samples.t_s")
        s.pos += 1
        end = s.closing_bracket()
        layout.arrays[column] = (s.pos, end)
        s.pos = end + 1
        if s.peek() == b",":
            s.pos += 1
            continue
        s.expect(b"}", "',' or '}'")
        return


class ColumnReader:
    """The items of one sample array, a block at a time.

    Numbers come back as float64 with a mask of the ``null`` items; labels as text.
    """

    def __init__(
        self,
        fh: IO[bytes],
        span: tuple[int, int],
        where: Callable[[int], str],
        *,
        labels: bool = False,
    ) -> None:
        self.fh = fh
        self.pos, self.end = span
        self.start = self.pos
        self.where = where  # item index → "f.json: samples.force_n[12]"
        self.labels = labels
        self.index = 0  # items parsed so far
        self._parts: list[tuple[Any, np.ndarray]] = []
        self._held = 0

    @property
    def consumed(self) -> int:
        """Bytes of the array read so far."""
        return self.pos - self.start

    def take(self, n: int) -> tuple[Any, np.ndarray]:
        """Up to ``n`` next items (fewer only at the end): (values, null mask)."""
        while self._held < n and self.pos < self.end:
            self._read_block()
        values = _concat([p[0] for p in self._parts], self.labels)
        nulls = np.concatenate([p[1] for p in self._parts]) if self._parts else np.zeros(0, bool)
        out = (values[:n], nulls[:n])
        rest = (values[n:], nulls[n:])
        self._parts = [rest] if len(rest[1]) else []
        self._held = len(rest[1])
        return out

    def _read_block(self) -> None:
        self.fh.seek(self.pos)
        data = self.fh.read(min(BLOCK, self.end - self.pos))
        if not data:
            raise UsageError(f"{self.where(self.index)}: the file ends inside this list")
        if self.pos + len(data) < self.end:
            cut = data.rfind(b",")
            if cut < 0:
                raise UsageError(f"{self.where(self.index)}: an item longer than 4 MB")
            data, self.pos = data[:cut], self.pos + cut + 1
        else:
            self.pos = self.end
        values, nulls = self._parse(data)
        self._parts.append((values, nulls))
        self._held += len(nulls)
        self.index += len(nulls)

    def _parse(self, data: bytes) -> tuple[Any, np.ndarray]:
        stripped = data.translate(None, _WS)
        if len(stripped) != len(data):  # pretty-printed: whitespace only between items
            inner = _INNER_WS.search(data)
            if inner is not None:
                raise self._bad(data, data.count(b",", 0, inner.start() + 1))
            data = stripped
        if not data:
            if self.pos < self.end or self.index:
                raise self._bad(data, 0)
            return _concat([], self.labels), np.zeros(0, dtype=bool)
        if not self.labels and b'"' in data:
            raise self._bad(data, data.count(b",", 0, data.find(b'"')))
        kind = pa.string() if self.labels else pa.float64()
        try:
            table = pcsv.read_csv(
                pa.BufferReader(data.replace(b",", b"\n")),
                read_options=pcsv.ReadOptions(column_names=["v"], use_threads=True),
                parse_options=pcsv.ParseOptions(ignore_empty_lines=False, quote_char='"'),
                convert_options=pcsv.ConvertOptions(
                    column_types={"v": kind},
                    null_values=[] if self.labels else ["null"],
                    strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise self._explain(data) from None
        column = table.column("v")
        if table.num_rows != data.count(b",") + 1:  # a last empty item: "[1,2,]"
            raise self._bad(data, table.num_rows)
        if self.labels:
            return column, np.zeros(len(column), dtype=bool)
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        return np.asarray(column.to_numpy(), dtype=np.float64), nulls

    def _explain(self, data: bytes) -> UsageError:
        for k, token in enumerate(data.split(b",")):
            if self.labels and token.startswith(b'"') and token.endswith(b'"') and len(token) > 1:
                continue
            if not _JSON_NUMBER.fullmatch(token):
                return self._bad(data, k)
        return UsageError(f"{self.where(self.index)}: not readable")

    def _bad(self, data: bytes, k: int) -> UsageError:
        tokens = data.split(b",")
        token = tokens[k] if k < len(tokens) else b""
        at = self.where(self.index + k)
        if not token.strip():
            return UsageError(f"{at} is missing (no value between two commas)")
        try:
            shown = repr(json.loads(token))
        except ValueError:
            shown = repr(token.decode("utf-8", "replace"))
        kind = "a zone" if self.labels else "a number"
        return UsageError(f"{at} is {shown}, not {kind}")


def _concat(parts: list[Any], labels: bool) -> Any:
    if labels:
        chunks = [c for p in parts for c in (p.chunks if hasattr(p, "chunks") else [p])]
        return pa.chunked_array(chunks, type=pa.string())
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)
