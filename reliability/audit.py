"""``make audit``: the installed dependencies checked against the public vulnerability database
(pip-audit), with an honest verdict.

pip-audit says "No known vulnerabilities found" even when it could not audit a single package
(no network, or a package index that does not answer). This wrapper counts: it passes only when
every dependency was audited and none is vulnerable, and otherwise says which it is, in one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def main() -> int:
    proc = subprocess.run(
        [str(PIP_AUDIT), "--progress-spinner", "off", "--format", "json", "--skip-editable"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(f"audit: pip-audit gave no report (exit {proc.returncode}): {proc.stderr.strip()}")
        return 2
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in deps if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in dep["vulns"])
        print(f"audit: {dep['name']} {dep.get('version', '')} is vulnerable: {ids}")
    audited = len(deps) - len(skipped)
    print(
        f"audit: {audited} of {len(deps)} dependencies audited, {len(vulnerable)} vulnerable"
        + (
            f"; {len(skipped)} could not be audited (e.g. {skipped[0]['skip_reason']})"
            if skipped
            else ""
        )
    )
    if vulnerable:
        return 1
    return 2 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
