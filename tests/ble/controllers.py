"""Virtual controllers on one link, any number of them (bumble's app stops at two).

Run as ``python tests/ble/controllers.py tcp-server:127.0.0.1:P1 tcp-server:127.0.0.1:P2 …``:
every transport gets its own virtual controller, all on one ``LocalLink``, so two peripherals and
a central can meet.
"""

from __future__ import annotations

import asyncio
import sys

from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport import open_transport


async def main(specs: list[str]) -> None:
    """Serve the controllers until killed."""
    link = LocalLink()
    transports = [await open_transport(spec) for spec in specs]
    controllers = [
        Controller(f"C{i}", host_source=t.source, host_sink=t.sink, link=link)
        for i, t in enumerate(transports)
    ]
    print(f"{len(controllers)} controllers ready", flush=True)
    await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
