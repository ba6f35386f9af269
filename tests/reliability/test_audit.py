"""The offline dependency audit (``python -m reliability.audit --advisories DIR``) against
advisories written here in OSV form, matched with the distributions really installed."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from reliability.audit import audit_offline

PYTEST = metadata.version("pytest")


def advisory(folder: Path, name: str, body: dict[str, object], as_json: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{'json' if as_json else 'yaml'}"
    path.write_text(json.dumps(body) if as_json else yaml.safe_dump(body))


def pytest_entry(**entry: object) -> dict[str, object]:
    return {"package": {"name": "PyTest", "ecosystem": "PyPI"}, **entry}


def events(*pairs: tuple[str, str]) -> list[dict[str, object]]:
    return [{"type": "ECOSYSTEM", "events": [{k: v} for k, v in pairs]}]


REINTRODUCED = events(("introduced", "0"), ("fixed", "1"), ("introduced", "2"))  # and not fixed


@pytest.mark.parametrize(
    ("entry", "vulnerable"),
    [
        (pytest_entry(ranges=events(("introduced", "0"))), True),  # never fixed
        (pytest_entry(ranges=events(("introduced", "0"), ("fixed", "9999"))), True),
        (pytest_entry(ranges=events(("introduced", "0"), ("fixed", "1.0"))), False),
        (pytest_entry(ranges=events(("introduced", "9000"), ("fixed", "9999"))), False),
        (pytest_entry(ranges=events(("introduced", "1.0"), ("last_affected", PYTEST))), True),
        (
            pytest_entry(ranges=events(("introduced", "0"), ("fixed", "1"), ("introduced", "2"))),
            True,
        ),
        (pytest_entry(versions=[PYTEST]), True),
        (pytest_entry(versions=["1.0"]), False),
        ({"package": {"name": "pytest", "ecosystem": "npm"}, "versions": [PYTEST]}, False),
    ],
)
def test_an_advisory_matches_the_installed_version_by_its_ranges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: dict[str, object], vulnerable: bool
) -> None:
    advisory(tmp_path, "PYSEC-0000-1", {"id": "PYSEC-0000-1", "modified": "2026-01-02T00:00:00Z",
                                        "affected": [entry]})  # fmt: skip
    code = audit_offline(tmp_path)
    out = capsys.readouterr().out
    assert code == (1 if vulnerable else 0), out
    assert (f"audit: pytest {PYTEST} is vulnerable: PYSEC-0000-1" in out) is vulnerable
    assert ("0 vulnerable" in out) is not vulnerable
    assert "(newest changed 2026-01-02)" in out  # the copy's age is always said


def test_withdrawn_advisories_json_and_an_empty_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit_offline(tmp_path / "none") == 2
    assert "nothing was audited" in capsys.readouterr().out
    hit = pytest_entry(versions=[PYTEST])
    advisory(tmp_path, "W", {"id": "W", "withdrawn": "2025-01-01", "affected": [hit]})
    advisory(tmp_path, "J", {"id": "J", "affected": [hit]}, as_json=True)
    assert audit_offline(tmp_path) == 1
    out = capsys.readouterr().out
    assert f"audit: pytest {PYTEST} is vulnerable: J\n" in out
