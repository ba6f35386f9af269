"""The real server: ``streamlit run dashboard/server.py`` serves the app and the live routes on
one origin, and stops promptly even with a live stream open (Streamlit's ``st.App``, pinned)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_helpers import live_state

from firmware_bridge.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    home = tmp_path_factory.mktemp("home")
    port = _free_port()
    env = os.environ | {"PRESSUREGUARD_HOME": str(home)}
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboard" / "server.py"),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/state", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"the dashboard server did not start:\n{log.read_text()}")
            time.sleep(0.2)
    yield url, proc, home
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _events(url: str, count: int) -> list[str]:
    """The first ``count`` SSE blocks of /api/live."""
    blocks: list[str] = []
    with urllib.request.urlopen(f"{url}/api/live", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        buffer = ""
        while len(blocks) < count:
            buffer += response.readline().decode()
            if buffer.endswith("\n\n"):
                blocks.append(buffer)
                buffer = ""
    return blocks


def test_app_and_routes_are_served(server: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, _proc, home = server
    with urllib.request.urlopen(f"{url}/", timeout=5) as response:
        assert response.status == 200
        assert b"<html" in response.read().lower()
    with urllib.request.urlopen(f"{url}/api/state", timeout=5) as response:
        state = json.load(response)
    assert state["zone"] == "no_signal"  # no bridge yet

    with Store.open(home) as store:
        store.set_live(None, live_state(zone="over", filtered_n=21.5))
        start = time.monotonic()
        blocks = _events(url, 11)
        elapsed = time.monotonic() - start
    assert blocks[0].startswith("retry:")
    messages = [json.loads(b.removeprefix("data: ")) for b in blocks[1:]]
    assert messages[0]["reset"] is True
    assert [m["seq"] for m in messages] == list(range(1, 11))
    assert elapsed < 2.0  # 10 messages at 20/s, with start-up slack
    zones = {m["state"]["zone"] for m in messages}
    assert zones <= {"over", "no_signal"}  # over while the row is fresh, then stale
    assert messages[0]["state"]["zone"] == "over"


def test_server_stops_promptly_with_a_stream_open(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, proc, _home = server
    with urllib.request.urlopen(f"{url}/api/live", timeout=5) as response:
        response.readline()
        proc.send_signal(signal.SIGTERM)
        tail = response.read().decode()  # returns when the server ends the stream
    assert tail.endswith("event: bye\ndata: {}\n\n")
    assert proc.wait(timeout=10) is not None
