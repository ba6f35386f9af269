"""Shared test rules.

Component tests (browser, simavr, BLE) skip with a reason where the component is missing on a
developer's machine; in CI (``CI=true``) such a skip is turned into a failure, so a missing install
step can never pass silently.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_component(available: bool, name: str, how: str) -> None:
    """Skip (or, in CI, fail) a test whose real component is missing.

    Args:
        available: whether the component was found.
        name: what is missing, e.g. "chromium".
        how: how to install it.
    """
    if available:
        return
    message = f"{name} is not installed ({how})"
    if IN_CI:
        pytest.fail(f"component missing in CI: {message}")
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI, a skipped test marked ``component`` is a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and item.get_closest_marker("component") is not None:
        report.outcome = "failed"
        report.longrepr = f"component test skipped in CI: {report.longrepr}"
