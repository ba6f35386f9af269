"""``pressureguard sessions list / show / export / import / delete``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from firmware_bridge.errors import UsageError
from firmware_bridge.readout import Readout, chosen_unit, readout
from firmware_bridge.store import Store
from firmware_bridge.store.exchange import export_session, import_file
from firmware_bridge.store.formats import EXPORT_FORMATS, SUFFIXES
from firmware_bridge.store.journal import check_day
from review.stats_cache import cached_session_stats
from review.words import calibration_words, prewarning_words


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``sessions`` and its sub-commands."""
    p = sub.add_parser("sessions", parents=[common], help="list, show, export, import, delete")
    ss = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    lst = ss.add_parser("list", parents=[common], help="recorded sessions, newest first")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--profile", help="only this profile's sessions")
    lst.add_argument("--region", help="only this region (upper-trapezius includes both sides)")
    lst.add_argument(
        "--from", dest="since", metavar="DATE", help="from this local day on (YYYY-MM-DD)"
    )
    lst.add_argument("--to", dest="until", metavar="DATE", help="up to this local day (inclusive)")
    lst.set_defaults(func=cmd_list)

    show = ss.add_parser("show", parents=[common], help="one session's summary and events")
    show.add_argument("id", type=session_id)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    exp = ss.add_parser(
        "export", parents=[common], help="one row per sample (CSV), JSON or Parquet"
    )
    exp.add_argument("id", type=session_id)
    exp.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        help="csv, json or parquet (default: from the -o file's suffix, else csv)",
    )
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    exp.set_defaults(func=cmd_export)

    imp = ss.add_parser(
        "import", parents=[common], help="add an exported session (CSV, JSON or Parquet)"
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=cmd_import)

    rm = ss.add_parser("delete", parents=[common], help="delete a session and its samples")
    rm.add_argument("id", type=session_id)
    rm.set_defaults(func=cmd_delete)


def session_id(text: str) -> int:
    """A session id as typed: a whole number the store can hold (argparse says so, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"a session id is a whole number from 1, not {text!r}")
    return value


def _when(text: str | None) -> tuple[date | None, datetime | None]:
    """A ``--from``/``--to`` value: a local calendar day (YYYY-MM-DD), or a date and time."""
    if text is None:
        return None, None
    try:
        if len(text.strip()) == 10:
            return check_day(text, repr(text)), None
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{text!r} is not a date: write YYYY-MM-DD") from exc
    check_day(when.date(), repr(text))  # far from the calendar's ends (time zones shift it)
    return None, when


def cmd_list(args: argparse.Namespace) -> int:
    """Print the session list."""
    day_from, since = _when(args.since)
    day_to, until = _when(args.until)
    with Store.open(args.data_dir) as store:
        rows = store.list_sessions(
            profile=args.profile,
            region=args.region,
            since=since,
            until=until,
            day_from=day_from,
            day_to=day_to,
        )
        unit = chosen_unit(store)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no sessions yet: record one with `pressureguard record SOURCE`")
        return 0
    print(
        f"{'id':>5}  {'started (UTC)':<20} {'profile':<10} {'region':<24} {'min':>6} "
        f"{'peak':>13} {'over s':>7}"
    )
    for r in rows:
        minutes = (r.get("duration_s") or 0) / 60
        # each session in pressure only when its own tip was flat and of known area
        peak = _shown(unit, r).text(r.get("peak_n"))
        over = r.get("time_over_limit_s") or 0
        print(
            f"{r['id']:>5}  {str(r['started_at'])[:19]:<20} {r.get('profile') or '':<10} "
            f"{r.get('region') or '-':<24} {minutes:6.1f} "
            f"{peak:>13} {over:7.1f}"
        )
    return 0


def _shown(unit: str, summary: dict[str, Any]) -> Readout:
    """How one session's forces read: in pressure only on its known flat tip."""
    return readout(unit, summary.get("tip_area_cm2"))


def cmd_show(args: argparse.Namespace) -> int:
    """Print one session."""
    with Store.open(args.data_dir) as store:
        summary = store.session_summary(args.id)
        stats = cached_session_stats(store, args.id, summary=summary).as_dict()
        unit = chosen_unit(store)
    if args.json:
        print(json.dumps(summary | {"stats": stats}, indent=2))
        return 0
    shown = _shown(unit, summary)
    keys = (
        "id", "started_at", "ended_at", "status", "source", "profile", "region", "device_id",
        "tip", "n_samples", "duration_s", "limit_n", "time_over_limit_s", "dropped_frames",
        "bad_frames", "gaps",
    )  # fmt: skip
    for key in keys:
        label, value = key, summary.get(key)
        if key == "limit_n":  # the peak is in the statistics below, from the samples
            label, value = "limit", shown.text(value)
        print(f"{label:>18}: {value}")
    if shown.note:
        print(f"{'unit':>18}: {shown.note}")
    print(f"{'calibration':>18}: {calibration_words(summary.get('calibration'))}")
    kinds: dict[str, int] = {}
    for event in summary.get("events", []):
        kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
    print(f"{'events':>18}: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"))
    print(_stats_text(stats, shown))
    prewarnings = prewarning_words(stats["events_by_kind"])
    if prewarnings:
        print(f"{'pre-warnings':>18}: {prewarnings.removeprefix('pre-warnings: ')}")
    return 0


def _number(value: Any, fmt: str, unit: str = "") -> str:
    return "-" if value is None else f"{format(value, fmt)}{unit}"


def _stats_text(stats: dict[str, Any], shown: Readout) -> str:
    zones = ", ".join(f"{k} {v:.1f} s" for k, v in stats["time_in_zone_s"].items() if v > 0)
    impulse = stats["impulse_ns"]
    lines = {
        "time in zones": zones or "-",
        "peak": shown.text(stats["peak_n"]),
        "impulse": _number(shown.value(impulse), ".0f", f" {shown.unit}·s"),
        "over-limit count": str(stats["over_limit_count"]),
        "longest hold": _number(stats["longest_hold_s"], ".1f", " s"),
        "sample rate": _number(stats["sample_rate_hz"], ".1f", " Hz"),
        "gaps (total)": f"{stats['gaps']} ({stats['gap_total_s']:.1f} s)",
        "pain before/after": f"{_number(stats['pain_before'], 'g')} / "
        f"{_number(stats['pain_after'], 'g')}",
    }
    return "\n".join(f"{key:>18}: {value}" for key, value in lines.items())


class ProgressBar:
    """Progress of an export or import on stderr, for work that takes over ~1 s.

    On a terminal: a bar redrawn in place (ASCII, 10 times a second) and ended with a newline.
    Otherwise (a log, a pipe): a plain line every 5 s. Nothing for work that ends sooner, and
    never anything on standard output, which may be the exported file.
    ``PRESSUREGUARD_PROGRESS_AFTER_S`` changes the ~1 s (tests set 0).
    """

    WIDTH = 24

    def __init__(self, what: str, unit: str, stream: TextIO | None = None) -> None:
        self.what, self.unit = what, unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.after_s = float(os.environ.get("PRESSUREGUARD_PROGRESS_AFTER_S", "1.0"))
        self.started = time.monotonic()
        self._last = -1e9
        self._shown = False
        self._state = (0, 0)

    def _amount(self, value: int) -> str:
        if self.unit == "MB":
            return f"{value / 1e6:,.0f}"
        return f"{value / 1e6:.1f} M" if value >= 1e6 else f"{value:,}"

    def _text(self, done: int, total: int) -> str:
        share = done / total if total else 1.0
        filled = round(self.WIDTH * share)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        seconds = time.monotonic() - self.started
        return (
            f"{self.what} [{bar}] {share:4.0%}  {self._amount(done)} of "
            f"{self._amount(total)} {self.unit}  {seconds:.1f} s"
        )

    def __call__(self, done: int, total: int) -> None:
        self._state = (done, total)
        now = time.monotonic()
        if done <= 0 or now - self.started < self.after_s:
            return  # nothing done yet (a file refused at once shows only its one line)
        if self.tty:
            if now - self._last >= 0.1:
                self.stream.write("\r" + self._text(done, total))
                self.stream.flush()
                self._last, self._shown = now, True
        elif now - self._last >= 5.0:
            print(f"pressureguard: {self._text(done, total)}", file=self.stream, flush=True)
            self._last, self._shown = now, True

    def close(self) -> None:
        """End the bar (its last state, then a new line) if it was shown."""
        if self._shown and self.tty:
            self.stream.write("\r" + self._text(*self._state) + "\n")
            self.stream.flush()


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = args.output.suffix.lower() if args.output is not None else ""
    by_suffix = {v: k for k, v in SUFFIXES.items()} | {".pq": "parquet"}
    return by_suffix.get(suffix, "csv")


def cmd_export(args: argparse.Namespace) -> int:
    """Write one session as CSV, JSON or Parquet, with progress on stderr."""
    fmt = _export_format(args)
    with Store.open(args.data_dir) as store:
        store.session_summary(args.id)  # a clear "no session N" before creating any file
        out: Any = args.output
        if out is None:
            if fmt == "parquet" and sys.stdout.isatty():
                raise UsageError("Parquet is binary: write it to a file with -o FILE.parquet")
            out = sys.stdout.buffer if fmt == "parquet" else sys.stdout
        # The bar stays off a terminal that is also showing the exported text.
        bar = ProgressBar("exporting", "samples")
        shown = args.output is not None or not sys.stdout.isatty()
        try:
            export_session(store, args.id, fmt, out, progress=bar if shown else None)
        finally:
            bar.close()
        if args.output is not None:
            print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import an exported session, with progress on stderr; prints the new id."""
    with Store.open(args.data_dir) as store:
        bar = ProgressBar(f"importing {args.file.name}", "MB")
        try:
            session_id = import_file(store, args.file, progress=bar)
        finally:
            bar.close()
        print(session_id)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete a session."""
    with Store.open(args.data_dir) as store:
        store.delete_session(args.id)
    print(f"deleted session {args.id}", file=sys.stderr)
    return 0
