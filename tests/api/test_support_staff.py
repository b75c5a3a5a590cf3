"""The staff side of the support centre: every ticket, replies, statuses; no credentials."""

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent, SupportTicket, TicketMessage
from app.security import crypto
from tests.support.accounts import make_staff
from tests.support.api import Customer, error_of
from tests.support.database import Database
from tests.support.factories import make_instance

TICKET = {"subject": "Cannot connect", "priority": "high", "message": "RDP says no."}


def _open(customer: Customer, **fields: str) -> int:
    response = customer.post("/api/support/tickets", json={**TICKET, **fields})
    assert response.status_code == 201
    ticket_id: int = response.get_json()["id"]
    return ticket_id


def test_customers_and_strangers_cannot_use_the_staff_routes(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    ticket_id = _open(customer)
    base = f"/api/support/staff/tickets/{ticket_id}"
    assert customer.get("/api/support/staff/tickets").status_code == 403
    assert customer.get(base).status_code == 403
    assert customer.post(f"{base}/replies", json={"message": "I am staff"}).status_code == 403
    assert (
        customer.client.patch(
            base, json={"status": "closed"}, headers={"X-CSRF-Token": customer.csrf}
        ).status_code
        == 403
    )
    assert app.test_client().get("/api/support/staff/tickets").status_code == 401
    assert database.count(TicketMessage) == 1
    assert database.scalar(select(SupportTicket.status)) == "open"


def test_staff_list_every_ticket_filtered_by_status_and_priority(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    ada, bob = Customer(app.test_client()), Customer(app.test_client())
    low = _open(ada, priority="low")
    urgent = _open(bob, priority="urgent")
    closed = _open(bob, priority="low")
    bob.post(f"/api/support/tickets/{closed}/close")
    staff = make_staff(Customer(client), database, role="admin")

    everything = staff.get("/api/support/staff/tickets").get_json()
    assert everything["total"] == 3
    assert [t["id"] for t in everything["tickets"]] == [closed, urgent, low]  # latest activity
    assert everything["tickets"][1]["customer"]["email"] == bob.email
    by_priority = staff.get("/api/support/staff/tickets?priority=low").get_json()
    assert {t["id"] for t in by_priority["tickets"]} == {low, closed}
    open_low = staff.get("/api/support/staff/tickets?priority=low&status=open").get_json()
    assert [t["id"] for t in open_low["tickets"]] == [low]
    for bad in ("priority=critical", "status=lost", "per_page=500"):
        assert staff.get(f"/api/support/staff/tickets?{bad}").status_code == 422, bad


def test_a_staff_reply_joins_the_thread_and_waits_on_the_customer(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(app.test_client())
    ticket_id = _open(customer)
    staff = make_staff(Customer(client), database)
    base = f"/api/support/staff/tickets/{ticket_id}"

    reply = staff.post(f"{base}/replies", json={"message": "Try restarting it."})
    assert reply.status_code == 201 and reply.get_json()["author"] == "staff"
    seen = customer.get(f"/api/support/tickets/{ticket_id}").get_json()
    assert seen["status"] == "waiting_on_customer"
    assert [m["author"] for m in seen["messages"]] == ["customer", "staff"]
    assert "author_id" not in seen["messages"][1]  # customers do not learn who on staff wrote

    customer.post(f"/api/support/tickets/{ticket_id}/replies", json={"message": "Done, works."})
    assert customer.get(f"/api/support/tickets/{ticket_id}").get_json()["status"] == "open"
    closing = staff.post(f"{base}/replies", json={"message": "Great!", "status": "closed"})
    assert closing.status_code == 201
    assert staff.get(base).get_json()["ticket"]["status"] == "closed"
    bad = staff.post(f"{base}/replies", json={"message": "x", "status": "solved"})
    assert bad.status_code == 422 and "status" in error_of(bad)["fields"]
    assert staff.post(f"{base}/replies", json={"message": ""}).status_code == 422
    assert database.count(TicketMessage) == 4


def test_staff_change_status_and_priority_and_it_is_audited(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(app.test_client())
    ticket_id = _open(customer, priority="low")
    staff = make_staff(Customer(client), database)
    base = f"/api/support/staff/tickets/{ticket_id}"
    headers = {"X-CSRF-Token": staff.csrf}

    changed = client.patch(
        base, json={"status": "in_progress", "priority": "high"}, headers=headers
    )
    assert changed.status_code == 200
    assert (changed.get_json()["status"], changed.get_json()["priority"]) == ("in_progress", "high")
    for bad in ({}, {"status": "solved"}, {"priority": "whenever"}, {"subject": "new"}):
        assert client.patch(base, json=bad, headers=headers).status_code == 422, bad
    assert (
        client.patch(
            "/api/support/staff/tickets/999999", json={"status": "closed"}, headers=headers
        ).status_code
        == 404
    )
    event = database.scalar(select(AuditEvent).where(AuditEvent.action == "support.ticket_updated"))
    assert event.user_id == staff.id
    assert event.details == {
        "ticket_id": ticket_id,
        "status": ["open", "in_progress"],
        "priority": ["low", "high"],
    }


def test_staff_see_the_customers_machines_but_never_their_passwords(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(app.test_client())
    with app.app_context():
        sealed = crypto.encrypt("S3cret!pass_word")
    instance = make_instance(database, customer.id, password_encrypted=sealed)
    ticket_id = _open(customer)
    staff = make_staff(Customer(client), database)

    view = staff.get(f"/api/support/staff/tickets/{ticket_id}")
    assert view.status_code == 200
    body = view.get_json()
    assert [m["id"] for m in body["customer_machines"]] == [instance.id]
    assert body["ticket"]["customer"]["id"] == customer.id
    text = view.get_data(as_text=True)
    assert "S3cret" not in text and sealed not in text and "password" not in text.lower()
    assert staff.get(f"/api/instances/{instance.id}/credentials").status_code == 404
    assert staff.get(f"/api/instances/{instance.id}").status_code == 404
