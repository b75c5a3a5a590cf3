"""The console gateway: an asyncio WebSocket server between browsers and machines' desktops.

A browser connects, sends its console ticket as the first message (never in the address,
so no access log holds it), and the gateway redeems it through the app's own service
(`app.services.console.redeem`, in a thread with an app context: the database and Redis
clients are synchronous). It then logs on to the machine's Remote Desktop with the
machine's credentials, which never leave this process, and relays: changed screen regions
to the browser, keys and mouse back (`frames` has the wire format). A console with no input
for ``CONSOLE_IDLE_SECONDS`` is closed, and so is the desktop connection with the socket.
Each open console holds one of its customer's ``CONSOLE_MAX_PER_CUSTOMER`` leases
(`app.services.console`), renewed while it runs and given back when it ends.

Run by ``nemordp console-gateway`` (`app.entrypoint`); nginx forwards ``/console/`` to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable

from flask import Flask
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from app.console.frames import KeyInput, parse_input, region_message, text_message
from app.console.rdp import ConsoleConnectError, RdpSession, warm_up
from app.services import console
from app.services.console import ConsoleTarget, redeem

logger = logging.getLogger(__name__)

TICKET_WAIT_SECONDS = 10.0
MAX_INPUT_BYTES = 1024
CLOSE_NORMAL, CLOSE_POLICY, CLOSE_UNAVAILABLE = 1000, 1008, 1011


class Gateway:
    """Serves consoles with the app: its tickets, machines' credentials and settings."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _redeem(self, ticket: str) -> ConsoleTarget | None:
        with self.app.app_context():
            return redeem(ticket)

    async def _in_app(self, call: Callable[..., object], *args: object) -> object:
        def run() -> object:
            with self.app.app_context():
                return call(*args)

        return await asyncio.to_thread(run)

    @contextlib.asynccontextmanager
    async def _lease(self, user_id: int) -> AsyncIterator[bool]:
        """One of the customer's console leases while the block runs (False: none left),
        renewed in the background and given back at its end."""
        console_id = secrets.token_hex(8)
        if not await self._in_app(console.claim_lease, user_id, console_id):
            yield False
            return

        async def renew() -> None:
            while True:
                await asyncio.sleep(console.LEASE_SECONDS / 3)
                await self._in_app(console.renew_lease, user_id, console_id)

        renewing = asyncio.create_task(renew())
        try:
            yield True
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self._in_app(console.release_lease, user_id, console_id)

    async def handle(self, socket: ServerConnection) -> None:
        """One browser's console, from its ticket to the close of either side."""
        try:
            ticket = await asyncio.wait_for(socket.recv(), TICKET_WAIT_SECONDS)
        except (TimeoutError, ConnectionClosed):
            await socket.close(CLOSE_POLICY, "no ticket")
            return
        target = await asyncio.to_thread(self._redeem, ticket if isinstance(ticket, str) else "")
        if target is None:
            await socket.send(text_message("closed", reason="The console link has expired."))
            await socket.close(CLOSE_POLICY, "invalid ticket")
            return
        async with self._lease(target.user_id) as leased:
            if not leased:
                await socket.send(text_message("closed", reason=console.TOO_MANY))
                await socket.close(CLOSE_POLICY, "too many consoles")
                return
            await self._serve(socket, target)

    async def _serve(self, socket: ServerConnection, target: ConsoleTarget) -> None:
        """Log on to the target's desktop and relay until either side ends."""
        ids = {"instance_id": target.instance_id, "user_id": target.user_id}
        try:
            desktop = await RdpSession.open(
                target.host,
                target.port,
                target.username,
                target.password,
                timeout=self.app.config["CONSOLE_CONNECT_TIMEOUT"],
            )
        except ConsoleConnectError as error:
            logger.warning("console: the desktop did not answer (%s)", error, extra=ids)
            with contextlib.suppress(ConnectionClosed):  # the browser may have left already
                await socket.send(text_message("closed", reason="The machine did not answer."))
                await socket.close(CLOSE_UNAVAILABLE, "desktop unavailable")
            return
        logger.info("console opened", extra=ids)
        try:
            await self._relay(socket, desktop)
        finally:
            await desktop.close()
            logger.info("console closed", extra=ids)

    async def _relay(self, socket: ServerConnection, desktop: RdpSession) -> None:
        await socket.send(text_message("ready", width=desktop.width, height=desktop.height))
        idle_seconds: float = self.app.config["CONSOLE_IDLE_SECONDS"]
        last_input = time.monotonic()

        async def screen() -> str:
            async for region in desktop.regions():
                await socket.send(region_message(region.x, region.y, region.image))
            return "The machine ended the session."

        async def keyboard_and_mouse() -> str:
            nonlocal last_input
            async for message in socket:
                event = parse_input(message)
                if event is None:
                    continue
                last_input = time.monotonic()
                if isinstance(event, KeyInput):
                    await desktop.key(event.scancode, event.extended, event.down)
                else:
                    await desktop.mouse(event.button, event.x, event.y, event.down)
            return ""

        async def idle() -> str:
            while (left := last_input + idle_seconds - time.monotonic()) > 0:
                await asyncio.sleep(left)
            return "Closed after no input for a while."

        tasks = [asyncio.create_task(job()) for job in (screen, keyboard_and_mouse, idle)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            reason = next(iter(done)).result()
            if reason:
                await socket.send(text_message("closed", reason=reason))
            await socket.close(CLOSE_NORMAL, "closed")
        except ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def start(app: Flask, host: str, port: int) -> Server:
    """The gateway's server, listening on host:port (port 0: any free one)."""
    warm_up()
    gateway = Gateway(app)
    return await serve(gateway.handle, host, port, max_size=MAX_INPUT_BYTES, ping_interval=20)


async def run(app: Flask, host: str, port: int) -> None:
    """Serve until the process is stopped."""
    server = await start(app, host, port)
    logger.info("console gateway listening on %s:%s", host, port)
    await server.serve_forever()
