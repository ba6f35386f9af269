"""``pressureguard report``: the therapist report of one profile over a date range, as a PDF (and,
with ``--png``, one PNG image per page)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from firmware_bridge.errors import UsageError
from firmware_bridge.store import Store
from firmware_bridge.store.journal import check_day


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``report`` command."""
    p = sub.add_parser(
        "report",
        parents=[common],
        help="the therapist report (PDF): limits, sessions, trends, journal",
        description="Write the therapist report of one profile over a date range as a PDF.",
    )
    p.add_argument("--profile", default="default", help="whose report (default: default)")
    p.add_argument("--from", dest="day_from", metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="day_to", metavar="DATE", help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the PDF file to write")
    p.add_argument("--png", type=Path, metavar="DIR", help="also write each page as a PNG here")
    p.set_defaults(func=run)


def check_output(path: Path) -> Path:
    """The report's file, checked before any work: its folder exists and it is not a folder.

    Raises:
        UsageError: the file cannot be written there.
    """
    try:  # a name the system cannot take (too long, ~nobody) fails in these checks already
        path = path.expanduser()
        problem = _output_problem(path)
    except RuntimeError:
        problem = "no such user's home folder"
    except OSError as exc:
        problem = exc.strerror or str(exc)
    if problem:
        raise UsageError(f"cannot write the report to {path}: {problem}")
    return path


def _output_problem(path: Path) -> str | None:
    folder = path.parent
    if path.is_dir():
        return "it is a folder"
    if folder.exists() and not folder.is_dir():
        return f"{folder} is not a folder"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return "the folder is not writable"
    return None


def run(args: argparse.Namespace) -> int:
    """Build the report, write the PDF (and PNG pages), print where and how many pages."""
    day_from = None if args.day_from is None else check_day(args.day_from, "--from")
    day_to = None if args.day_to is None else check_day(args.day_to, "--to")
    output = check_output(args.output)
    # matplotlib is heavy: only this command loads it
    from review.report import build_report  # noqa: PLC0415

    with Store.open(args.data_dir) as store:
        report = build_report(store, args.profile, day_from, day_to)
    path = report.write_pdf(output)
    pages = report.page_count
    print(f"{path}: {pages} page{'s' * (pages != 1)}")
    if args.png is not None:
        images = report.png_pages(args.png)
        print(f"{args.png}: {len(images)} PNG page{'s' * (len(images) != 1)}")
    return 0
