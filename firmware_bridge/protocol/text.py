"""Incremental decoder for plain text lines from existing HX711 sketches.

Pure: bytes in, readings out, no I/O. One number is taken from every line: the first standalone
number (``HX711 reading: 12345`` gives 12345, never the 711), the ``field``-th one, or the one after
``LABEL:`` / ``LABEL=``. A unit word right after the number (``12.5 g``, ``0.25kg``, ``1.2 lbs``)
wins over the default unit. Counts become ``SampleBatch.raw``; force units become
``SampleBatch.force_n`` in newtons.

Every line that cannot give a value is counted, never fatal and never guessed: ``no_number`` (no
number, label or field missing) or ``invalid`` (nan/inf/ovf, control characters, broken UTF-8,
over-long line).

Whole blocks of complete lines are parsed with one ``re.findall`` and numpy, so a feed of 100k lines
costs no per-character Python work.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware_bridge.errors import UsageError
from firmware_bridge.readings import DecoderStats, FloatArray, Reading, SampleBatch

log = logging.getLogger(__name__)

#: Longest accepted line (without its terminator); longer ones are dropped as ``invalid``.
MAX_LINE = 512
#: Largest magnitude a line's number may have, in counts or newtons (a 32-bit ADC stops near 4e9):
#: beyond it the line is ``invalid``, never a force that overflows the filters.
MAX_ABS_VALUE = 1e12
#: Line period assumed until lines have been timed (80 Hz, the HX711's fast rate).
DEFAULT_PERIOD_S = 1 / 80
_EMA_ALPHA = 0.2

GRAM_N = 0.00980665
KG_N = 9.80665
LBF_N = 4.4482216152605
#: Newtons per unit; None means raw ADC counts.
UNIT_FACTORS: dict[str, float | None] = {
    "counts": None,
    "g": GRAM_N,
    "kg": KG_N,
    "N": 1.0,
    "lbf": LBF_N,
}
#: Unit words as written on a line or given as an option (lower case) → canonical unit.
UNIT_WORDS = {
    "count": "counts",
    "counts": "counts",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "kg": "kg",
    "gf": "g",
    "kgf": "kg",
    "n": "N",
    "lb": "lbf",
    "lbs": "lbf",
    "lbf": "lbf",
}

# A number is a standalone token: not glued to a letter, digit, underscore, dot or sign before it,
# and followed by a boundary or a unit word. Arduino's printFloat writes nan/inf/ovf: those are
# tokens too, so they are reported as invalid rather than skipped for a later number.
_NUM = rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_UNIT = rb"(?i:grams?|kgf?|gf|lb[sf]?|counts?|g|n)"
_NONFINITE = rb"[+-]?(?i:nan|inf(?:inity)?|ovf)"
_LEFT = rb"(?<![\w.+-])"
_TOKEN = _LEFT + rb"(?:" + _NUM + rb"(?:[ \t]*" + _UNIT + rb"(?!\w)|(?![\w.]))|"
_TOKEN += _NONFINITE + rb"(?!\w))"
_CAPTURE = _LEFT + rb"(?:(" + _NUM + rb")(?:[ \t]*(" + _UNIT + rb")(?!\w)|(?![\w.]))|"
_CAPTURE += rb"(" + _NONFINITE + rb")(?!\w))"
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _line_pattern(field: int, label: str | None) -> re.Pattern[bytes]:
    """One match per line: groups (number, unit, non-finite word), all empty when none is found."""
    if label is not None:
        lead = rb"[^\n]*?(?<!\w)(?i:" + re.escape(label.encode()) + rb")[ \t]*[:=][ \t]*"
    else:
        # Atomic groups: each skipped token is committed, so a line with fewer numbers than
        # ``field`` fails in linear time instead of trying every subset of its tokens.
        lead = (rb"(?>[^\n]*?" + _TOKEN + rb")") * (field - 1) + rb"[^\n]*?"
    return re.compile(rb"(?m)^(?:" + lead + _CAPTURE + rb")?[^\n]*")


@dataclass(frozen=True, slots=True)
class TextOptions:
    """How to read a number from each text line.

    Attributes:
        field: which standalone number on the line to take, 1-based (default: the first).
        label: take the number after ``LABEL:`` or ``LABEL=`` (Serial-Plotter style lines);
            matched case-insensitively as a whole word.
        unit: the unit of numbers written without one: counts, g, kg, N or lbf.

    Raises:
        UsageError: a field below 1, an empty label, both field and label, or an unknown unit.
    """

    field: int | None = None
    label: str | None = None
    unit: str = "counts"

    def __post_init__(self) -> None:
        if self.field is not None and self.field < 1:
            raise UsageError(f"--text-field counts from 1, not {self.field}")
        if self.label is not None and (not self.label.strip() or "\n" in self.label):
            raise UsageError("--text-label needs a name, e.g. --text-label weight")
        if self.field is not None and self.label is not None:
            raise UsageError("give --text-field or --text-label, not both")
        if self.unit.lower() not in UNIT_WORDS:
            raise UsageError(f"unknown --text-unit {self.unit!r}: use counts, g, kg, N or lbf")

    @property
    def canonical_unit(self) -> str:
        """The default unit as a key of :data:`UNIT_FACTORS`."""
        return UNIT_WORDS[self.unit.lower()]


class TextDecoder:
    """Turns text lines into readings, counting every line it cannot use.

    Lines end with ``\\n``, ``\\r\\n`` or ``\\r`` and may arrive in any chunking. Text carries no
    device clock: each line is stamped with its host arrival time (see :meth:`feed`).

    Args:
        options: which number to take and its default unit.
        at_stream_start: the first byte fed is the first the tool sent; otherwise the first line
            may be torn and is dropped (counted in ``stats.skipped_bytes``).
    """

    def __init__(
        self, options: TextOptions = TextOptions(), *, at_stream_start: bool = False
    ) -> None:
        self.options = options
        self.stats = DecoderStats()
        self._pattern = _line_pattern(options.field or 1, options.label)
        self._default_factor = UNIT_FACTORS[options.canonical_unit]
        self._tail = bytearray()
        self._drop_first = not at_stream_start
        self._discarding = False  # inside an over-long line: drop bytes until its terminator
        # The last byte seen was a terminating \r: a \n right after it is the same terminator.
        self._after_cr = False
        self._t_prev: float | None = None  # t_host of the previous feed
        self._t_last: float | None = None  # time given to the last completed line
        self._period = DEFAULT_PERIOD_S

    @property
    def period_s(self) -> float:
        """Current estimate of the interval between lines."""
        return self._period

    def feed(self, data: bytes, t_host: float) -> list[Reading]:
        """Decode a chunk of the text stream.

        Lines completed by this chunk are spread evenly over the interval since the previous feed,
        ending at ``t_host``; on the first feed they are spaced by the estimated line period.

        Args:
            data: bytes as they arrived; lines may be split anywhere.
            t_host: host arrival time in seconds.

        Returns:
            The readings completed by this chunk: one :class:`SampleBatch` per run of lines with
            the same kind (counts or force), in stream order.
        """
        if not data:
            return []
        buf = bytes(data)
        if self._after_cr and buf[:1] == b"\n":
            buf = buf[1:]  # second half of a \r\n split across chunks
        self._after_cr = False
        end = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
        if end < 0:
            self._extend_tail(buf)
            self._t_prev = t_host if self._t_prev is None else max(self._t_prev, t_host)
            return []
        head, rest = buf[: end + 1], buf[end + 1 :]
        self._after_cr = not rest and head.endswith(b"\r")
        block = bytes(self._tail) + head if self._tail else head
        self._tail = bytearray()
        block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        out = self._lines(block, t_host)
        self._extend_tail(rest)
        return out

    # -- lines ------------------------------------------------------------------------------

    def _extend_tail(self, part: bytes) -> None:
        if not part:
            return
        if self._discarding:
            if self._drop_first:
                self.stats.skipped_bytes += len(part)
            return
        self._tail += part
        if len(self._tail) > MAX_LINE:
            if self._drop_first:
                self.stats.skipped_bytes += len(self._tail)
            else:
                self.stats.faults["invalid"] += 1
                log.debug("text line longer than %d bytes dropped", MAX_LINE)
            self._tail = bytearray()
            self._discarding = True

    def _lines(self, block: bytes, t_host: float) -> list[Reading]:
        """Decode ``block``: complete lines, each ending with ``\\n``."""
        n = block.count(b"\n")
        times = self._line_times(n, t_host)
        first = 0
        if self._discarding or self._drop_first:
            cut = block.index(b"\n")
            if self._drop_first:
                self.stats.skipped_bytes += cut
            self._discarding = self._drop_first = False
            block, first = block[cut + 1 :], 1
        if not block:
            return []
        values, factors, faults = self._parse(block)
        count_faults = np.bincount(faults, minlength=3)
        self.stats.faults["no_number"] += int(count_faults[1])
        self.stats.faults["invalid"] += int(count_faults[2])
        ok = faults == 0
        n_ok = int(np.count_nonzero(ok))
        if not n_ok:
            return []
        self.stats.frames += n_ok
        self.stats.samples += n_ok
        return self._batches(times[first:][ok], values[ok], factors[ok])

    def _line_times(self, n: int, t_host: float) -> FloatArray:
        if self._t_last is not None:
            t_host = max(t_host, self._t_last)
            interval = (t_host - self._t_last) / n
            if interval > 0:
                self._period += _EMA_ALPHA * (interval - self._period)
        if self._t_prev is None:
            times = t_host - self._period * np.arange(n - 1, -1, -1, dtype=np.float64)
        else:
            start = min(self._t_prev, t_host)  # t_host is already >= the last line's time
            times = start + (t_host - start) * (np.arange(1, n + 1, dtype=np.float64) / n)
            times[-1] = t_host  # exactly: rounding must not put the next line before this one
        self._t_prev = t_host
        self._t_last = float(times[-1])
        return times

    def _parse(self, block: bytes) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
        """Per line: value, newtons per unit (NaN: counts), fault (0 ok, 1 no_number, 2 invalid)."""
        text = block[:-1]  # one match per line: no empty match after the final terminator
        found: list[tuple[bytes, bytes, bytes]] = self._pattern.findall(text)
        n = block.count(b"\n")
        if len(found) != n:  # defensive: never mis-assign values to lines
            log.warning("text parser matched %d of %d lines; parsing line by line", len(found), n)
            found = [self._line_groups(line) for line in text.split(b"\n")]
        nums, units, bad = (np.array(col, dtype=np.bytes_) for col in zip(*found, strict=True))
        faults = np.where(nums == b"", 1, 0).astype(np.intp)
        faults[bad != b""] = 2
        values = np.zeros(n, dtype=np.float64)
        has = faults == 0
        with np.errstate(over="ignore", invalid="ignore"):  # "1e999": inf, an invalid line below
            values[has] = nums[has].astype(np.float64)
        faults[has & ~np.isfinite(values)] = 2
        default = np.nan if self._default_factor is None else self._default_factor
        factors = np.full(n, default, dtype=np.float64)
        if (units != b"").any():
            words, inverse = np.unique(units, return_inverse=True)
            table = np.array([self._factor(w) for w in words], dtype=np.float64)
            factors = table[inverse.ravel()]
        with np.errstate(over="ignore", invalid="ignore"):  # 1e307 kg is no reading either
            scaled = np.abs(values * np.where(np.isnan(factors), 1.0, factors))
        faults[(faults == 0) & ~(scaled <= MAX_ABS_VALUE)] = 2
        # Lines that cannot be trusted at all, whatever number they seem to hold: line noise and
        # a wrong baud rate show up as control characters and broken UTF-8.
        ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x0A)
        faults[np.diff(ends, prepend=-1) - 1 > MAX_LINE] = 2
        if _CONTROL.search(text):
            ctrl = [m.start() for m in _CONTROL.finditer(text)]
            faults[np.searchsorted(ends, np.asarray(ctrl, dtype=np.intp))] = 2
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            faults[[i for i, line in enumerate(text.split(b"\n")) if not _is_utf8(line)]] = 2
        return values, factors, faults

    def _line_groups(self, line: bytes) -> tuple[bytes, bytes, bytes]:
        match = self._pattern.match(line)
        if match is None:
            return (b"", b"", b"")
        num, unit, bad = match.groups(default=b"")
        return (num, unit, bad)

    def _factor(self, word: bytes) -> float:
        if not word:
            return np.nan if self._default_factor is None else self._default_factor
        factor = UNIT_FACTORS[UNIT_WORDS[word.decode("ascii").lower()]]
        return np.nan if factor is None else factor

    def _batches(self, t: FloatArray, values: FloatArray, factors: FloatArray) -> list[Reading]:
        is_force = ~np.isnan(factors)
        edges = np.flatnonzero(np.diff(is_force.astype(np.int8))) + 1
        out: list[Reading] = []
        for lo, hi in zip(
            np.concatenate(([0], edges)), np.concatenate((edges, [len(t)])), strict=True
        ):
            seg_t = t[lo:hi].copy()
            if is_force[lo]:
                force = values[lo:hi] * factors[lo:hi]
                raw = np.full(hi - lo, np.nan)
                out.append(
                    SampleBatch(seg_t, raw, force, device_clock=False, period_s=self._period)
                )
            else:
                seg = values[lo:hi].copy()
                out.append(SampleBatch(seg_t, seg, None, device_clock=False, period_s=self._period))
        return out
