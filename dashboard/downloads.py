"""Prepared export files served from disk: ``GET /api/download/<token>``.

Streamlit's download button keeps a file's bytes in the server's memory for as long as it
serves them, and a 2-hour session's CSV is over half a gigabyte. A prepared export is already a
file on disk (this user's alone, see :mod:`dashboard.history_exchange`), so the page links to it
instead and this route streams it to the browser a piece at a time.

The page and the route run in one process (``server.py``'s ``st.App``), so an offer is an entry
in this module's table: an unguessable token naming one file, its download name and its type.
Nothing in a request names a path. A token ends when its file is withdrawn (another file was
prepared) or is gone; asking for it then gets a short sentence saying to prepare it again. The
route sits behind the same Host and Origin checks as the live routes (:mod:`dashboard.web_guard`).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

ROUTE = "/api/download/{token}"
EXPIRED = "This download has expired: prepare the file again on the History page."


@dataclass(frozen=True)
class Offer:
    """One prepared file the page offers."""

    path: Path
    name: str
    mime: str


_offers: dict[str, Offer] = {}
_lock = threading.Lock()


def offer(path: Path, name: str, mime: str) -> str:
    """Offer a prepared file for download; returns the URL path the page links to.

    Args:
        path: the prepared file.
        name: the file name the browser saves it as.
        mime: its media type.
    """
    token = secrets.token_urlsafe(24)
    with _lock:
        _offers[token] = Offer(Path(path), name, mime)
    return ROUTE.format(token=token)


def withdraw(path: Path) -> None:
    """End every offer of ``path`` (it is about to be removed or replaced)."""
    with _lock:
        for token in [t for t, o in _offers.items() if o.path == Path(path)]:
            del _offers[token]


def offered(token: str) -> Offer | None:
    """The offer a token names, while its file is there."""
    with _lock:
        found = _offers.get(token)
    return found if found is not None and found.path.is_file() else None


async def download_file(request: Request) -> Response:
    """``GET /api/download/<token>``: the offered file, streamed from disk as an attachment."""
    found = offered(str(request.path_params.get("token", "")))
    if found is None:
        return PlainTextResponse(EXPIRED, status_code=404)
    return FileResponse(found.path, media_type=found.mime, filename=found.name)
