"""``make audit``: the installed dependencies checked against the public vulnerability database
(pip-audit), with an honest verdict.

pip-audit says "No known vulnerabilities found" even when it could not audit a single package
(no network, or a package index that does not answer). This wrapper counts: it passes only when
every dependency was audited and none is vulnerable, and otherwise says which it is, in one line.

``--advisories DIR`` audits without a network, against a copy of an advisory database in OSV
form (the PyPA advisory database, one YAML or JSON file per advisory): every installed
distribution is matched against every PyPI advisory's versions and ranges, and the verdict names
the newest advisory in the copy, so its age is never hidden.

    python -m reliability.audit [--advisories DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.audit", description=__doc__)
    parser.add_argument("--advisories", type=Path, help="an OSV advisory folder (offline)")
    args = parser.parse_args(argv)
    if args.advisories is not None:
        return audit_offline(args.advisories)
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


def audit_offline(folder: Path) -> int:
    """Every installed distribution against the advisories under ``folder``; 0 clean, 1
    vulnerable, 2 no advisories there."""
    installed = _installed()
    advisories = list(_advisories(folder))
    if not advisories:
        print(f"audit: no advisories under {folder}: nothing was audited")
        return 2
    vulnerable: dict[str, list[str]] = {}
    for advisory in advisories:
        for name in _affected_installed(advisory, installed):
            vulnerable.setdefault(name, []).append(str(advisory.get("id", "?")))
    for name, ids in sorted(vulnerable.items()):
        print(f"audit: {name} {installed[name]} is vulnerable: {', '.join(sorted(ids))}")
    newest = max(str(a.get("modified") or a.get("published") or "") for a in advisories)
    print(f"audit: {len(installed)} of {len(installed)} dependencies audited against "
          f"{len(advisories)} advisories in {folder} (newest changed {newest[:10] or '?'}), "
          f"{len(vulnerable)} vulnerable")  # fmt: skip
    return 1 if vulnerable else 0


def _installed() -> dict[str, Version]:
    """Installed distributions (this project's own, editable, left out) by canonical name."""
    found: dict[str, Version] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if not name or name == "pressureguard":
            continue
        try:
            found[name] = Version(dist.version)
        except InvalidVersion:
            continue
    return found


def _advisories(folder: Path) -> Iterator[dict[str, Any]]:
    import yaml  # noqa: PLC0415 - only the offline audit reads YAML

    for path in sorted(folder.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            advisory = yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".json":
            advisory = json.loads(path.read_text(encoding="utf-8"))
        else:
            continue
        if isinstance(advisory, dict) and not advisory.get("withdrawn"):
            yield advisory


def _affected_installed(advisory: dict[str, Any], installed: dict[str, Version]) -> set[str]:
    """The installed distributions an advisory's PyPI entries cover."""
    names = set()
    for entry in advisory.get("affected") or []:
        package = entry.get("package") or {}
        name = canonicalize_name(str(package.get("name", "")))
        if package.get("ecosystem") != "PyPI" or name not in installed:
            continue
        version = installed[name]
        listed = {_version(v) for v in entry.get("versions") or []}
        ranges = [r for r in entry.get("ranges") or [] if r.get("type") == "ECOSYSTEM"]
        if version in listed or any(_in_range(version, r.get("events") or []) for r in ranges):
            names.add(name)
    return names


def _in_range(version: Version, events: list[dict[str, str]]) -> bool:
    """OSV range events, in order: affected from each ``introduced`` up to its ``fixed``
    (excluded) or ``last_affected`` (included)."""
    affected = False
    for event in events:
        if "introduced" in event:
            start = event["introduced"]
            affected = start == "0" or (_version(start) or version) <= version
        elif "fixed" in event and affected and (fixed := _version(event["fixed"])) is not None:
            if version < fixed:
                return True
            affected = False
        elif "last_affected" in event and affected:
            last = _version(event["last_affected"])
            if last is not None and version <= last:
                return True
            affected = False
    return affected  # introduced, never fixed


def _version(text: Any) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


if __name__ == "__main__":
    sys.exit(main())
