"""Console tickets: for the owner of an active machine, used once, soon, and audited."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import AuditEvent, Instance
from app.services import console
from tests.support.api import Customer, error_of
from tests.support.database import Database


def _redeem(app: Flask, ticket: str) -> console.ConsoleTarget | None:
    with app.app_context():
        return console.redeem(ticket)


def test_the_owner_gets_a_ticket_that_opens_the_machine_once(
    app: Flask, client: FlaskClient, database: Database, desktop_machine: Callable[..., Instance]
) -> None:
    customer = Customer(client)
    machine = desktop_machine(customer.id)
    response = customer.post(f"/api/instances/{machine.id}/console")
    assert response.status_code == 201
    assert response.headers["Cache-Control"].startswith("no-store")
    body = response.get_json()
    assert set(body) == {"ticket", "url", "expires_in"} and body["expires_in"] == 30
    assert "S3cret" not in response.get_data(as_text=True)
    target = _redeem(app, body["ticket"])
    assert target is not None
    assert (target.instance_id, target.user_id) == (machine.id, customer.id)
    assert (target.username, target.password) == ("alice", "S3cret!pass_word")
    assert _redeem(app, body["ticket"]) is None  # single use


def test_a_ticket_is_audited_without_its_secret(
    client: FlaskClient, database: Database, desktop_machine: Callable[..., Instance]
) -> None:
    customer = Customer(client)
    machine = desktop_machine(customer.id)
    ticket = customer.post(f"/api/instances/{machine.id}/console").get_json()["ticket"]
    events = database.scalars(select(AuditEvent).where(AuditEvent.action == "instance.console"))
    assert len(events) == 1
    assert events[0].user_id == customer.id and events[0].details == {"instance_id": machine.id}
    assert ticket not in str(events[0].details)


def test_a_ticket_expires_unused(
    app: Flask, client: FlaskClient, database: Database, desktop_machine: Callable[..., Instance]
) -> None:
    customer = Customer(client)
    machine = desktop_machine(customer.id)
    app.config["CONSOLE_TICKET_SECONDS"] = 1
    try:
        ticket = customer.post(f"/api/instances/{machine.id}/console").get_json()["ticket"]
    finally:
        app.config["CONSOLE_TICKET_SECONDS"] = 30
    time.sleep(1.5)
    assert _redeem(app, ticket) is None


def test_a_ticket_is_void_once_the_machine_is_no_longer_active(
    app: Flask, client: FlaskClient, database: Database, desktop_machine: Callable[..., Instance]
) -> None:
    customer = Customer(client)
    machine = desktop_machine(customer.id)
    ticket = customer.post(f"/api/instances/{machine.id}/console").get_json()["ticket"]
    with database.session() as session:
        session.execute(update(Instance).where(Instance.id == machine.id).values(status="stopped"))
        session.commit()
    assert _redeem(app, ticket) is None


def test_another_customers_machine_is_404(
    app: Flask, client: FlaskClient, database: Database, desktop_machine: Callable[..., Instance]
) -> None:
    owner = Customer(client)
    machine = desktop_machine(owner.id)
    intruder = Customer(app.test_client())
    response = intruder.post(f"/api/instances/{machine.id}/console")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert database.scalars(select(AuditEvent).where(AuditEvent.action == "instance.console")) == []


def test_a_machine_that_is_not_active_is_409(
    client: FlaskClient, database: Database, desktop_machine: Callable[..., Instance]
) -> None:
    customer = Customer(client)
    for status in ("provisioning", "stopped", "terminated"):
        machine = desktop_machine(customer.id, status=status, provider_id=f"p-{status}")
        response = customer.post(f"/api/instances/{machine.id}/console")
        assert response.status_code == 409, status
        assert "active" in error_of(response)["message"]


def test_a_ticket_needs_a_signed_in_customer(client: FlaskClient) -> None:
    response = client.post("/api/instances/1/console")
    assert response.status_code in (401, 403)


def test_made_up_tickets_open_nothing(app: Flask) -> None:
    for ticket in ("", "x" * 500, "not-a-ticket"):
        assert _redeem(app, ticket) is None
