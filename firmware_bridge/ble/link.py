"""One connection to a BLE tool, used from a synchronous reader thread.

The link lives on the BLE loop (:mod:`firmware_bridge.ble.runtime`). Its notify callback only
stamps each value with the host's monotonic clock and queues it; :meth:`BleLink.read` pops from
that queue on the caller's thread. Writes go out in the order they were asked for, with
response, without blocking the caller. A disconnect, a lost HCI transport or a link that falls
silent for :data:`SILENCE_S` is reported by :meth:`BleLink.read` as :class:`SourceLostError`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient

from firmware_bridge.ble import runtime
from firmware_bridge.ble.discovery import NOUNS, FoundTool, Kind, find
from firmware_bridge.ble.stack import BleStack
from firmware_bridge.errors import PressureGuardError, SourceLostError, SourceOpenError

log = logging.getLogger(__name__)

#: A tool streams continuously (STATUS at least once a second): this long without a single
#: notification means the link is gone even if no stack said so.
SILENCE_S = 2.0
CONNECT_TIMEOUT_S = 10.0
#: Notifications held for a reader that stalls (about 100 s of a 1 kHz tool); more are dropped.
QUEUE_SIZE = 4096
WRITE_TIMEOUT_S = 2.0
REPLY_TIMEOUT_S = 1.0
RSSI_PERIOD_S = 5.0


@dataclass(frozen=True, slots=True)
class Notification:
    """One notified value, with its host arrival time and the request in flight then."""

    data: bytes
    t_host: float
    request: bytes | None = None


@dataclass(frozen=True, slots=True)
class Gatt:
    """The characteristics a tool kind is spoken through."""

    service: str
    notify: str
    write: str


class BleLink:
    """A connected, subscribed tool. Build it with :meth:`open`.

    Attributes:
        tool: what the scan found (name, address, advertised RSSI, kind).
        stack: the Bluetooth stack it runs on.
        rssi: the latest RSSI known (the advertisement's, refreshed where the stack can tell).
        dropped: notifications dropped because the reader fell behind.
    """

    def __init__(self, stack: BleStack, tool: FoundTool, gatt: Gatt) -> None:
        self.stack = stack
        self.tool = tool
        self.gatt = gatt
        self.rssi = tool.rssi
        self.dropped = 0
        self.is_reply: Callable[[bytes], bool] | None = None
        self._queue: queue.Queue[Notification] = queue.Queue(QUEUE_SIZE)
        self._client: BleakClient | None = None
        self._lost: str | None = None
        self._closed = False
        self._last = time.monotonic()  # host time of the newest notification
        self._write_lock: asyncio.Lock | None = None
        self._in_flight: bytes | None = None
        self._reply: asyncio.Future[bytes] | None = None
        self._rssi_task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Whether the link is up (connected, not lost, not closed)."""
        return self._client is not None and self._lost is None and not self._closed

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, stack: BleStack, kind: Kind, target: str, gatt: Gatt) -> BleLink:
        """Find the tool, connect, check its service and subscribe to its notifications.

        Raises:
            SourceOpenError: not found, refused, busy, not this kind of tool, or no adapter.
            UsageError: a malformed HCI transport string.
        """
        try:
            return runtime.run(cls._open(stack, kind, target, gatt), CONNECT_TIMEOUT_S + 15.0)
        except TimeoutError:
            raise SourceOpenError(f"connecting over {stack.label} took too long") from None

    @classmethod
    async def _open(cls, stack: BleStack, kind: Kind, target: str, gatt: Gatt) -> BleLink:
        tool = await find(stack, kind, target)
        link = cls(stack, tool, gatt)
        await link._connect()
        return link

    async def _connect(self) -> None:
        tool, label = self.tool, self.tool.name or self.tool.address
        self._write_lock = asyncio.Lock()
        try:
            kwargs = await self.stack.bleak_kwargs("client")
            client = BleakClient(
                tool.device,
                disconnected_callback=self._on_disconnect,
                timeout=CONNECT_TIMEOUT_S,
                **kwargs,
            )
            await client.connect()
        except PressureGuardError:
            raise
        except Exception as exc:
            error = self.stack.explain(exc, f"connect to {label}")
            raise SourceOpenError(
                f"{label} did not accept the connection (busy with another device, or out of "
                f"reach): {error}"
            ) from exc
        self._client = client
        try:
            if client.services.get_service(self.gatt.service) is None:
                raise SourceOpenError(
                    f"{label} is not a {NOUNS[tool.kind]}: it has no service {self.gatt.service}"
                )
            await client.start_notify(self.gatt.notify, self._on_notify)
        except SourceOpenError:
            await self._disconnect()
            raise
        except Exception as exc:
            await self._disconnect()
            raise SourceOpenError(_refusal(label, exc)) from exc
        self._last = time.monotonic()  # the silence is counted from the subscription on
        self._rssi_task = asyncio.get_running_loop().create_task(self._track_rssi())
        log.info("connected to %s (%s) over %s", label, tool.address, self.stack.label)

    # -- the BLE loop's side ------------------------------------------------------------------

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        """Stamp and queue: nothing else happens on the loop for a notification."""
        value, now = bytes(data), time.monotonic()
        self._last = now
        try:
            self._queue.put_nowait(Notification(value, now, self._in_flight))
        except queue.Full:
            self.dropped += 1
        reply = self._reply
        if reply is not None and not reply.done() and self.is_reply and self.is_reply(value):
            reply.set_result(value)

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._lost = f"{self.tool.name or self.tool.address} disconnected"

    async def _track_rssi(self) -> None:
        backend = getattr(self._client, "_backend", None)  # bleak has no public RSSI API
        read = getattr(backend, "read_rssi", None)
        if read is None:
            return
        while self._lost is None and not self._closed:
            value = await read()
            if value is None:
                return  # the controller cannot tell: the advertisement's RSSI stays
            self.rssi = value
            await asyncio.sleep(RSSI_PERIOD_S)

    async def _write(self, data: bytes, reply: bool) -> bytes | None:
        lock = self._write_lock
        if lock is None:
            return None
        async with lock:
            client = self._client
            if client is None or self._lost:
                return None
            if reply:
                self._in_flight = data
                self._reply = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(
                    client.write_gatt_char(self.gatt.write, data, response=True), WRITE_TIMEOUT_S
                )
                if reply and self._reply is not None:
                    return await asyncio.wait_for(self._reply, REPLY_TIMEOUT_S)
            except TimeoutError:
                log.warning("%s did not answer a write of %s", self.tool.name, data.hex())
            except Exception as exc:
                log.warning("write to %s failed: %s", self.tool.name, exc)
            finally:
                self._in_flight, self._reply = None, None
        return None

    async def _disconnect(self) -> None:
        if self._rssi_task is not None:
            self._rssi_task.cancel()
        lock = self._write_lock
        if lock is not None and self._lost is None:
            try:  # the writes asked for before (a last STOP) go out first
                await asyncio.wait_for(lock.acquire(), WRITE_TIMEOUT_S)
                lock.release()
            except TimeoutError:
                log.debug("writes to %s still pending at disconnect", self.tool.name)
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await asyncio.wait_for(client.disconnect(), 3.0)
        except Exception as exc:  # a dead link cannot be left politely
            log.debug("disconnect from %s: %s", self.tool.name, exc)

    # -- the reader's side ----------------------------------------------------------------------

    def read(self, timeout: float) -> Notification | None:
        """The next notification, waiting up to ``timeout`` seconds.

        Raises:
            SourceLostError: the tool disconnected, its HCI transport went away, or it has been
                silent for :data:`SILENCE_S`.
        """
        try:
            item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            item = None
        if item is not None:
            return item
        if self._lost is not None:
            raise SourceLostError(self._lost)
        silent = time.monotonic() - self._last
        if silent > SILENCE_S:
            name = self.tool.name or self.tool.address
            raise SourceLostError(f"nothing from {name} for {silent:.1f} s: link lost")
        return None

    def write(self, data: bytes) -> None:
        """Send bytes to the write characteristic (with response), in order, without waiting."""
        if self._closed:
            return
        runtime.submit(self._write(data, reply=False))

    def request(self, data: bytes) -> None:
        """Send a command whose answer is a notification; the next write waits for that answer.

        The answer arrives through :meth:`read`, tagged with this request.
        """
        if self._closed:
            return
        runtime.submit(self._write(data, reply=True))

    def close(self) -> None:
        """Disconnect (bounded). Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            runtime.run(self._disconnect(), 5.0)
        except Exception as exc:  # closing must never fail the caller
            log.debug("closing the link to %s: %s", self.tool.name, exc)


def _refusal(label: str, exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if any(word in lowered for word in ("authentication", "encryption", "pairing", "authoriz")):
        return f"{label} refused access (pairing refused or needed): pair it in the system settings"
    return f"{label} connected but could not be subscribed to: {text}"
