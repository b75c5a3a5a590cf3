"""`nemordp console-gateway` as the stack launcher runs it: a process of its own that reads
tickets from Redis and credentials from the database with the platform's settings."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable

from flask.testing import FlaskClient
from websockets.sync.client import connect

from app.models import Instance
from devtools.stack.platform import ConsoleGateway
from tests.support.api import Customer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_gateway_process_opens_a_desktop_for_a_ticket(
    client: FlaskClient, desktop_machine: Callable[..., Instance]
) -> None:
    customer = Customer(client)
    machine = desktop_machine(customer.id)
    ticket = customer.post(f"/api/instances/{machine.id}/console").get_json()["ticket"]
    gateway = ConsoleGateway(_free_port(), dict(os.environ))
    gateway.start()
    try:
        with connect(gateway.url, open_timeout=5) as browser:
            browser.send(ticket)
            assert json.loads(browser.recv(timeout=20))["type"] == "ready"
            assert isinstance(browser.recv(timeout=10), bytes)  # the first region
    finally:
        gateway.stop()
