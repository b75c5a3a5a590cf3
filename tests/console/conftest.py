"""A real Remote Desktop server (Debian's xrdp) on a machine's loopback address, and the
console gateway serving the test app from a background thread."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from app.console.gateway import start
from app.models import Instance
from app.security import crypto
from devtools.xrdp_desktop import XrdpDesktop, XrdpMissing
from tests.support.database import Database
from tests.support.factories import make_instance

MACHINE_PASSWORD = "S3cret!pass_word"
MACHINE_ADDRESS = "127.77.0.1"  # a machine of its own, outside the emulators' 127.1.x.y


@pytest.fixture(scope="session")
def rdp_server() -> Iterator[XrdpDesktop]:
    """xrdp listening where the machine's Remote Desktop is expected: its address, on the
    RDP_PORT the settings give."""
    try:
        with XrdpDesktop(MACHINE_ADDRESS, int(os.environ["RDP_PORT"])) as desktop:
            yield desktop
    except XrdpMissing as missing:
        pytest.fail(f"{missing} (make test does it)")


@pytest.fixture(scope="session")
def gateway(app: Flask) -> Iterator[str]:
    """The console gateway on a free port, its own event loop in a thread: its ws:// URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        server = await start(app, "127.0.0.1", 0)
        holder["server"] = server
        holder["port"] = server.sockets[0].getsockname()[1]
        started.set()
        await server.wait_closed()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"ws://127.0.0.1:{holder['port']}"
    server = holder["server"]
    loop.call_soon_threadsafe(server.close)  # type: ignore[attr-defined]
    thread.join(10)


@pytest.fixture()
def desktop_machine(
    app: Flask, database: Database, rdp_server: XrdpDesktop
) -> Callable[[int], Instance]:
    """Makes an active machine of a customer whose Remote Desktop is the xrdp above."""
    with app.app_context():
        sealed = crypto.encrypt(MACHINE_PASSWORD)

    def owned_by(user_id: int, **fields: Any) -> Instance:
        values = {
            "ip_address": rdp_server.address,
            "username": "alice",
            "password_encrypted": sealed,
            **fields,
        }
        return make_instance(database, user_id, **values)

    return owned_by
