"""Who may talk to the dashboard: its own pages, on the address it was started on.

The dashboard listens on 127.0.0.1 unless the user says otherwise. That alone does not stop a web
page elsewhere from reaching it through the user's own browser:

- **DNS rebinding**: a page on ``evil.example`` makes its name resolve to 127.0.0.1, and the
  browser then counts the dashboard as that page's own origin. Every request (the app, its
  websocket, the live routes) must therefore name an allowed ``Host``; others get 400
  (:func:`allowed_hosts`, applied by Starlette's ``TrustedHostMiddleware`` in ``server.py``).
- **Cross-origin reads**: the live routes answer only requests whose ``Origin``, when a browser
  sends one, is the dashboard's own (:func:`same_origin_only`); others get 403. Commands (start,
  stop, a limit) travel over Streamlit's websocket, which refuses foreign origins itself and
  sits behind the same Host check.

The launcher puts the allowed host names in ``PRESSUREGUARD_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

ENV = "PRESSUREGUARD_ALLOWED_HOSTS"
LOOPBACK = ("127.0.0.1", "localhost", "::1")

Endpoint = Callable[[Request], Awaitable[Response]]


def allowed_hosts(listen_host: str | None = None) -> list[str]:
    """Host names requests may name: loopback, plus the address the user chose to listen on.

    Args:
        listen_host: the ``--host`` given; None reads ``PRESSUREGUARD_ALLOWED_HOSTS`` (a comma
            list; ``*`` when the user listens on every interface on purpose).
    """
    if listen_host is None:
        env = os.environ.get(ENV, "")
        hosts = [h.strip().lower() for h in env.split(",") if h.strip()]
        return hosts or list(LOOPBACK)
    if listen_host in ("0.0.0.0", "::", ""):
        return ["*"]  # every interface, by the user's choice: the Origin check still applies
    return list(dict.fromkeys([*LOOPBACK, listen_host.strip("[]").lower()]))


def _host_of(value: str) -> str:
    """The host name of a ``Host`` header or an origin URL, without the port."""
    netloc = urlsplit(value).netloc if "://" in value else value
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")].lower()
    return host.split(":", 1)[0].lower()


def foreign_origin(request: Request, hosts: list[str]) -> bool:
    """Whether a browser sent this request from a page of another origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not a cross-origin browser request (a script, curl, a same-origin GET)
    if origin == "null":
        return True
    origin_host = _host_of(origin)
    if "*" in hosts:
        return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
    return origin_host not in hosts


def same_origin_only(endpoint: Endpoint) -> Endpoint:
    """Wrap a route so that requests from other origins get 403 and nothing else."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if foreign_origin(request, allowed_hosts()):
            return PlainTextResponse("foreign origin", status_code=403)
        return await endpoint(request)

    return guarded
