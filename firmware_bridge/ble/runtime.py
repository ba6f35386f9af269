"""The process's one BLE event loop, on its own named thread.

bleak (and bumble) need every operation of a connection on the same asyncio loop, for the life
of the process. The bridge is synchronous, so the loop runs on a daemon thread
(``pressureguard-ble``) and synchronous callers hand it coroutines with :func:`run` (wait for the
result) or :func:`submit` (fire and forget). At interpreter exit the registered cleanups (open
HCI transports) run on the loop before it stops.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

THREAD_NAME = "pressureguard-ble"
#: How long the exit-time cleanups may take.
SHUTDOWN_S = 2.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_cleanups: list[Callable[[], Awaitable[None]]] = []


def loop() -> asyncio.AbstractEventLoop:
    """The BLE loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            new = asyncio.new_event_loop()
            ready = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(new)
                new.call_soon(ready.set)
                new.run_forever()

            thread = threading.Thread(target=main, name=THREAD_NAME, daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = new, thread
            atexit.register(shutdown)
        return _loop


def in_loop_thread() -> bool:
    """Whether the caller runs on the BLE loop's thread (where :func:`run` would deadlock)."""
    return _thread is not None and threading.current_thread() is _thread


def run(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the BLE loop and wait for its result.

    Raises:
        TimeoutError: it took longer than ``timeout`` seconds (it is then cancelled).
        Exception: whatever the coroutine raised.
    """
    if in_loop_thread():  # pragma: no cover - a programming error, not a user's
        coro.close()
        raise RuntimeError("runtime.run() called from the BLE loop itself")
    future = asyncio.run_coroutine_threadsafe(coro, loop())
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"took longer than {timeout:g} s") from None


def submit(coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
    """Start ``coro`` on the BLE loop without waiting; failures are logged."""
    future = asyncio.run_coroutine_threadsafe(coro, loop())

    def done(f: concurrent.futures.Future[Any]) -> None:
        if not f.cancelled() and f.exception() is not None:
            log.warning("BLE task failed: %s", f.exception())

    future.add_done_callback(done)
    return future


def call_soon(callback: Callable[[], None]) -> None:
    """Run a plain callable on the BLE loop's thread."""
    loop().call_soon_threadsafe(callback)


def at_shutdown(cleanup: Callable[[], Awaitable[None]]) -> None:
    """Register a coroutine function to await on the loop when the process exits."""
    _cleanups.append(cleanup)


def shutdown() -> None:
    """Run the cleanups and stop the loop (at exit; safe to call twice)."""
    global _loop, _thread
    with _lock:
        current, thread = _loop, _thread
        _loop = _thread = None
    if current is None or thread is None or not thread.is_alive():
        return

    async def cleanup_all() -> None:
        for cleanup in reversed(_cleanups):
            try:
                await cleanup()
            except Exception as exc:  # exit-time cleanup: report, never raise
                log.debug("BLE cleanup failed: %s", exc)
        _cleanups.clear()

    try:
        asyncio.run_coroutine_threadsafe(cleanup_all(), current).result(SHUTDOWN_S)
    except Exception as exc:
        log.debug("BLE shutdown: %s", exc)
    current.call_soon_threadsafe(current.stop)
    thread.join(SHUTDOWN_S)
