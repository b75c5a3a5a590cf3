"""One desktop connection against the real xrdp: opened, drawn, closed without leaving a
task behind (the gateway runs for months)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from app.console.rdp import CLOSE_SECONDS, ConsoleConnectError, RdpSession
from devtools.xrdp_desktop import XrdpDesktop

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run in a loop of its own thread: the browser tests' driver holds this thread's."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _library_tasks() -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if "RDPConnection" in repr(task.get_coro())]


def test_a_closed_session_leaves_no_task_running(rdp_server: XrdpDesktop) -> None:
    async def scenario() -> tuple[int, int]:
        session = await RdpSession.open(rdp_server.address, rdp_server.port, "alice", "x")
        regions = session.regions()
        await asyncio.wait_for(anext(regions), 10)
        running = len(_library_tasks())
        await session.close()
        return running, len(_library_tasks())

    running, left = _run(scenario())
    assert running > 0 and left == 0


def test_a_session_whose_server_went_away_still_closes_promptly(rdp_server: XrdpDesktop) -> None:
    machine = XrdpDesktop("127.77.0.8", rdp_server.port).start()

    async def scenario() -> tuple[float, int]:
        session = await RdpSession.open(machine.address, machine.port, "alice", "x")
        await asyncio.wait_for(anext(session.regions()), 10)
        await asyncio.to_thread(machine.stop)
        began = time.monotonic()
        await asyncio.wait_for(session.close(), 10)
        return time.monotonic() - began, len(_library_tasks())

    try:
        seconds, left = _run(scenario())
    finally:
        machine.stop()
    assert seconds <= CLOSE_SECONDS + 1 and left == 0


def test_a_closed_port_is_a_connect_error(rdp_server: XrdpDesktop) -> None:
    with pytest.raises(ConsoleConnectError):
        _run(RdpSession.open("127.77.0.3", rdp_server.port, "alice", "x", timeout=3))
