"""The launcher: the bridge and the dashboard as two supervised processes.

The bridge owns the tool and makes every safety decision; the dashboard only shows the store. If
the bridge dies it is started again (the dashboard shows NO SIGNAL meanwhile, never a stale value);
Ctrl-C stops both cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.web_guard import allowed_hosts
from firmware_bridge.errors import BridgeBusyError, PressureGuardError, UsageError

log = logging.getLogger(__name__)

RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
#: A process that ran this long before dying is restarted without delay growth.
STABLE_S = 30.0
READY_TIMEOUT_S = 60.0


def dashboard_script() -> Path:
    """The Streamlit server script of the dashboard package."""
    import dashboard  # noqa: PLC0415 - only the launcher needs to know where it lives

    return Path(dashboard.__file__).resolve().parent / "server.py"


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if it is free on ``host``, else any free port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise UsageError(f"no free port on {host}")


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    restart: bool = True
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        """Start (or restart) the process."""
        self.proc = subprocess.Popen(self.argv, env=self.env)
        self.started_at = time.monotonic()
        log.info("%s started (pid %d)", self.name, self.proc.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask it to stop (SIGTERM: the bridge ends its session cleanly), then make sure."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s: killing it", self.name, timeout)
            self.proc.kill()
            self.proc.wait()


@dataclass
class Launcher:
    """Runs the bridge (optional) and the dashboard, and keeps them running.

    Args:
        data_dir: the store both processes use.
        bridge_argv: the bridge's command line, or None for the dashboard alone.
        host: the address the dashboard listens on (127.0.0.1 unless the user says otherwise).
        port: the dashboard's port.
        open_browser: open the dashboard in the default browser once it answers.
        announce: how to tell the user the address (the CLI prints it).
    """

    data_dir: Path
    bridge_argv: list[str] | None
    host: str = "127.0.0.1"
    port: int = 8501
    open_browser: bool = True
    announce: Callable[[str], None] = log.warning
    children: list[Child] = field(default_factory=list)
    _stop: bool = False
    _exit_code: int = 0

    @property
    def url(self) -> str:
        """Where the dashboard is."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PRESSUREGUARD_HOME"] = str(self.data_dir)
        env["PRESSUREGUARD_ALLOWED_HOSTS"] = ",".join(allowed_hosts(self.host))
        env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
        return env

    def _dashboard_argv(self) -> list[str]:
        options = {
            "server.address": self.host,
            "server.port": str(self.port),
            "server.headless": "true",
            "server.fileWatcherType": "none",
            "browser.gatherUsageStats": "false",  # no telemetry
            "server.enableXsrfProtection": "true",  # the default, kept on whatever a config says
            "server.enableCORS": "true",
            "client.toolbarMode": "minimal",  # no "Deploy" button for a person at home
            "theme.primaryColor": "#1a56db",  # calm blue: red is kept for danger alone
        }
        argv = [sys.executable, "-m", "streamlit", "run", str(dashboard_script())]
        for key, value in options.items():
            argv += [f"--{key}", value]
        return argv

    def run(self) -> int:
        """Start everything, print the address, supervise until Ctrl-C; returns an exit code."""
        env = self._env()
        if self.bridge_argv is not None:
            self.children.append(Child("bridge", self.bridge_argv, env))
        self.children.append(Child("dashboard", self._dashboard_argv(), env))
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                child.start()
            self._wait_ready()
            if not self._stop:
                self.announce(f"PressureGuard is running at {self.url}  (Ctrl-C to stop)")
            if self.open_browser and not self._stop:
                webbrowser.open(self.url)
            while not self._stop:
                self._supervise()
                time.sleep(0.2)
        finally:
            for child in reversed(self.children):
                child.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.announce("PressureGuard stopped.")
        return self._exit_code

    def stop(self) -> None:
        """End the run (from a signal handler or a timer)."""
        self._stop = True

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stop()

    def _refused(self, child: Child) -> bool:
        """Whether the child ended because another bridge owns the data directory (it said so
        in one line); the run then ends: starting it again cannot help, and a dashboard beside
        it would show the other bridge's tool as if it were this one's."""
        if child.proc is None or child.proc.poll() != BridgeBusyError.exit_code:
            return False
        self.announce("PressureGuard could not start its bridge (the line above says why).")
        self._exit_code = 1
        self._stop = True
        return True

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        health = f"{self.url}/_stcore/health"
        while time.monotonic() < deadline and not self._stop:
            for child in self.children:
                if self._refused(child):
                    return
                if child.name == "dashboard" and child.proc and child.proc.poll() is not None:
                    raise PressureGuardError(
                        f"the dashboard could not start (exit {child.proc.returncode})"
                    )
            try:
                with urllib.request.urlopen(health, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        if not self._stop:
            raise PressureGuardError(f"the dashboard did not answer at {self.url}")

    def _supervise(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.proc is None or child.proc.poll() is None:
                continue
            if self._refused(child):
                return
            if child.next_start == 0.0:
                ran = now - child.started_at
                if ran >= STABLE_S:
                    child.restarts = 0
                delay = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
                child.next_start = now + delay
                log.warning(
                    "%s stopped (exit %s); restarting in %.1f s",
                    child.name,
                    child.proc.returncode,
                    delay,
                )
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.start()
