"""The figures a fault test measured, for ``docs/reliability.md``: with ``PG_FAULT_REPORT=FILE``
each call appends one JSON line to FILE (``make soak`` sets it); otherwise nothing is written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def report(name: str, **figures: Any) -> None:
    """Append one fault's figures to ``PG_FAULT_REPORT`` (when set)."""
    target = os.environ.get("PG_FAULT_REPORT")
    if target:
        with Path(target).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"fault": name, **figures}) + "\n")
