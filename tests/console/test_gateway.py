"""The console gateway against a real Remote Desktop server (xrdp): ticket in, screen out,
keys back, and the ways a console ends."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from app.console.frames import HEADER
from app.models import Instance
from app.services import console
from devtools.xrdp_desktop import XrdpDesktop
from tests.support.api import Customer
from tests.support.database import Database

SCREEN = (1024, 768)


def _ticket(client: FlaskClient, machine_of: Callable[..., Instance]) -> str:
    customer = Customer(client)
    machine = machine_of(customer.id)
    ticket: str = customer.post(f"/api/instances/{machine.id}/console").get_json()["ticket"]
    return ticket


def _regions(socket: ClientConnection, seconds: float) -> list[tuple[int, int, Image.Image]]:
    """The binary regions received within `seconds`."""
    regions = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = socket.recv(timeout=left)
        except TimeoutError:
            break
        if isinstance(message, bytes):
            x, y, _, _ = HEADER.unpack_from(message)
            regions.append((x, y, Image.open(io.BytesIO(message[HEADER.size :])).convert("RGB")))
    return regions


def _screen(regions: list[tuple[int, int, Image.Image]]) -> Image.Image:
    screen = Image.new("RGB", SCREEN)
    for x, y, image in regions:
        screen.paste(image, (x, y))
    return screen


def test_a_ticket_opens_the_machines_login_screen_and_keys_reach_it(
    client: FlaskClient,
    database: Database,
    desktop_machine: Callable[..., Instance],
    gateway: str,
    rdp_server: XrdpDesktop,
) -> None:
    ticket = _ticket(client, desktop_machine)
    with connect(gateway, open_timeout=5) as socket:
        socket.send(ticket)
        ready = json.loads(socket.recv(timeout=15))
        assert ready == {"type": "ready", "width": 1024, "height": 768}
        before = _screen(_regions(socket, 3))
        colours = before.getcolors(maxcolors=1 << 16) or []
        assert len(colours) > 10  # a drawn login dialog, not one flat colour
        assert "Connected client computer name" in rdp_server.log_text()

        for code in ("KeyA", "KeyB"):
            for down in (True, False):
                socket.send(json.dumps({"type": "key", "code": code, "down": down}))
        typed = _regions(socket, 2)
        assert typed, "the server drew nothing after the keys"
        after = before.copy()
        for x, y, image in typed:
            after.paste(image, (x, y))
        assert after.tobytes() != before.tobytes()


def test_a_ticket_is_used_up_by_the_gateway(
    client: FlaskClient, desktop_machine: Callable[..., Instance], gateway: str
) -> None:
    ticket = _ticket(client, desktop_machine)
    with connect(gateway, open_timeout=5) as socket:
        socket.send(ticket)
        assert json.loads(socket.recv(timeout=15))["type"] == "ready"
    with connect(gateway, open_timeout=5) as again:
        again.send(ticket)
        assert json.loads(again.recv(timeout=5))["type"] == "closed"
        with pytest.raises(ConnectionClosed) as closed:
            again.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_an_idle_console_is_closed(
    app: Flask, client: FlaskClient, desktop_machine: Callable[..., Instance], gateway: str
) -> None:
    ticket = _ticket(client, desktop_machine)
    app.config["CONSOLE_IDLE_SECONDS"] = 2
    try:
        with connect(gateway, open_timeout=5) as socket:
            socket.send(ticket)
            started = time.monotonic()
            messages = []
            with pytest.raises(ConnectionClosed):
                while time.monotonic() - started < 20:
                    messages.append(socket.recv(timeout=20))
            closing = [json.loads(m) for m in messages if isinstance(m, str)][-1]
            assert closing["type"] == "closed" and "no input" in closing["reason"]
            assert time.monotonic() - started < 10
    finally:
        app.config["CONSOLE_IDLE_SECONDS"] = 900


def test_an_unreachable_desktop_closes_the_console(
    client: FlaskClient, desktop_machine: Callable[..., Instance], gateway: str
) -> None:
    ticket = _ticket(client, lambda user_id: desktop_machine(user_id, ip_address="127.77.0.2"))
    with connect(gateway, open_timeout=5) as socket:
        socket.send(ticket)
        assert json.loads(socket.recv(timeout=20)) == {
            "type": "closed",
            "reason": "The machine did not answer.",
        }


def test_a_customer_has_no_more_consoles_open_than_allowed(
    app: Flask, client: FlaskClient, desktop_machine: Callable[..., Instance], gateway: str
) -> None:
    customer = Customer(client)
    path = f"/api/instances/{desktop_machine(customer.id).id}/console"
    app.config["CONSOLE_MAX_PER_CUSTOMER"] = 1
    try:
        # Two tickets asked for before either is used: the gateway is what counts.
        first, second = (customer.post(path).get_json()["ticket"] for _ in range(2))
        with connect(gateway, open_timeout=5) as socket:
            socket.send(first)
            assert json.loads(socket.recv(timeout=15))["type"] == "ready"
            with connect(gateway, open_timeout=5) as refused:
                refused.send(second)
                closing = json.loads(refused.recv(timeout=5))
                assert closing == {"type": "closed", "reason": console.TOO_MANY}
                with pytest.raises(ConnectionClosed) as closed:
                    refused.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            response = customer.post(path)
            assert response.status_code == 409
            assert response.get_json()["error"]["message"] == console.TOO_MANY
        # Closing the console gives its place back.
        deadline = time.monotonic() + 10
        while (response := customer.post(path)).status_code == 409:
            assert time.monotonic() < deadline, "the closed console still counts"
            time.sleep(0.2)
        with connect(gateway, open_timeout=5) as socket:
            socket.send(response.get_json()["ticket"])
            assert json.loads(socket.recv(timeout=15))["type"] == "ready"
    finally:
        app.config["CONSOLE_MAX_PER_CUSTOMER"] = 3
