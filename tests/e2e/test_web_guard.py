"""Nothing from a web page on another origin reaches the dashboard, and nothing leaves the machine.

Driven against a real launched dashboard: raw HTTP requests with forged ``Host`` and ``Origin``
headers (what a DNS-rebinding page or a cross-origin page would send), the websocket that carries
commands (start, stop, limits), and real Chromium watching every request the pages make.
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
from collections.abc import Iterator

import pytest

from dashboard.web_guard import allowed_hosts, foreign_origin
from tests.e2e.conftest import RunningApp, launch, stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = launch(tmp_path_factory.mktemp("guard"), "demo")
    yield running
    stop(running)


def _port(app: RunningApp) -> int:
    return int(app.url.rsplit(":", 1)[1])


def get(app: RunningApp, path: str, host: str | None = None, origin: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", _port(app), timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host or f"127.0.0.1:{_port(app)}")
        if origin:
            conn.putheader("Origin", origin)
        conn.endheaders()
        response = conn.getresponse()
        return response.status
    finally:
        conn.close()


def websocket_status(app: RunningApp, host: str, origin: str) -> int:
    """The status of a websocket upgrade to Streamlit's command channel (101 = accepted)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: streamlit\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(app)), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_the_live_routes_answer_the_dashboards_own_pages(app: RunningApp) -> None:
    own = f"http://127.0.0.1:{_port(app)}"
    assert get(app, "/api/state") == 200
    assert get(app, "/api/state", origin=own) == 200
    assert get(app, "/api/curve?session=1&points=200", origin=own) == 200
    assert get(app, "/api/download/no-such-offer", origin=own) == 404  # a path is never taken
    assert websocket_status(app, f"127.0.0.1:{_port(app)}", own) == 101


@pytest.mark.parametrize(
    "path", ["/api/state", "/api/live", "/api/curve?session=1", "/api/download/x"]
)
def test_a_page_on_another_origin_is_refused(app: RunningApp, path: str) -> None:
    assert get(app, path, origin="http://evil.example") == 403
    assert get(app, path, origin="null") == 403  # a sandboxed frame or a file:// page


@pytest.mark.parametrize(
    "path", ["/", "/api/state", "/api/live", "/_stcore/health", "/api/download/x"]
)
def test_dns_rebinding_is_refused_by_host(app: RunningApp, path: str) -> None:
    # evil.example resolved to 127.0.0.1: same origin for the browser, but not our host name
    evil = f"evil.example:{_port(app)}"
    assert get(app, path, host=evil, origin=f"http://{evil}") == 400


def test_no_command_channel_for_another_origin_or_host(app: RunningApp) -> None:
    port = _port(app)
    assert websocket_status(app, f"127.0.0.1:{port}", "http://evil.example") != 101
    evil = f"evil.example:{port}"
    assert websocket_status(app, evil, f"http://{evil}") != 101


def test_xsrf_protection_is_on(app: RunningApp) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", _port(app), timeout=10)
    try:
        conn.request("GET", "/_stcore/health")  # where Streamlit sets its XSRF cookie
        cookies = " ".join(conn.getresponse().headers.get_all("Set-Cookie") or [])
    finally:
        conn.close()
    assert "_streamlit_xsrf" in cookies


def test_allowed_hosts_follow_the_address_the_user_chose() -> None:
    assert set(allowed_hosts("127.0.0.1")) == {"127.0.0.1", "localhost", "::1"}
    assert "192.168.1.5" in allowed_hosts("192.168.1.5")
    assert allowed_hosts("0.0.0.0") == ["*"]


class _Req:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


@pytest.mark.parametrize(
    ("origin", "foreign"),
    [
        (None, False),
        ("http://127.0.0.1:8501", False),
        ("http://localhost:8501", False),
        ("http://[::1]:8501", False),
        ("http://evil.example", True),
        ("http://127.0.0.1.evil.example", True),
        ("null", True),
    ],
)
def test_origins(origin: str | None, foreign: bool) -> None:
    headers = {"host": "127.0.0.1:8501"} | ({"origin": origin} if origin else {})
    assert foreign_origin(_Req(headers), list(allowed_hosts("127.0.0.1"))) is foreign  # type: ignore[arg-type]


@pytest.mark.component("browser")
def test_no_page_sends_anything_off_this_machine(browser, app: RunningApp) -> None:
    """No telemetry: every request of every page goes to the dashboard itself."""
    seen: list[str] = []
    page = browser.new_page()
    page.on("request", lambda r: seen.append(r.url))
    for path in ("", "limits", "history", "journal", "calibrate", "device"):
        page.goto(f"{app.url}/{path}")
        page.wait_for_selector("[data-testid=stMainBlockContainer]", timeout=30_000)
        page.wait_for_timeout(1500)
    page.close()
    elsewhere = [u for u in seen if not u.startswith((app.url, "data:", "blob:", "about:"))]
    assert seen and not elsewhere, elsewhere
