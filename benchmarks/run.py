"""``make bench``: run the benchmarks and write their sections of ``docs/benchmarks.md``.

Usage: ``python -m benchmarks.run [NAME …]`` (default: all).
"""

from __future__ import annotations

import json
import sys

from benchmarks import (
    ble,
    dashboard,
    exchange,
    limit_change,
    machine,
    pipeline,
    prewarn,
    review,
    store_check,
)
from benchmarks.harness import write_section

BENCHMARKS = {
    "pipeline": pipeline,
    "dashboard": dashboard,
    "limit_change": limit_change,
    "review": review,
    "prewarn": prewarn,
    "ble": ble,
    "store_check": store_check,
    "exchange": exchange,
}


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default)."""
    names = argv or list(BENCHMARKS)
    where = machine.describe()
    for name in names:
        module = BENCHMARKS[name]
        print(f"running {name} …", flush=True)
        results = module.run()
        print(json.dumps(results, indent=2, default=str))
        write_section(name, module.markdown(results, where))
    print("wrote docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
