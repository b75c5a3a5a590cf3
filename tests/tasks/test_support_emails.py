"""Support e-mail end to end: API → Redis → Celery worker → SMTP."""

import time

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import mails_to, make_staff, wait_for_mail
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.mailbox import Mailbox

SUPPORT = "support@nemordp.local"
OPS = "ops@nemordp.local"


def _open(customer: Customer, **fields: str) -> int:
    body = {"subject": "Cannot connect", "priority": "high", "message": "RDP says no.", **fields}
    response = customer.post("/api/support/tickets", json=body)
    assert response.status_code == 201
    ticket_id: int = response.get_json()["id"]
    return ticket_id


def test_a_new_ticket_is_emailed_to_support_as_plain_text(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    markup = "<script>alert(1)</script>\nIt is <b>down</b>."
    ticket_id = _open(customer, subject="Down <again>", message=markup)
    message = wait_for_mail(inbox, SUPPORT, f"#{ticket_id}]")
    assert message["Subject"] == f"[NemoRDP support #{ticket_id}] [high] Down <again>"
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    body = message.get_content().replace("\r\n", "\n")  # SMTP sends CRLF lines
    assert markup in body and customer.email in body
    assert f"/staff/tickets/{ticket_id}" in body


def test_an_urgent_ticket_is_also_raised_to_ops_and_a_high_one_is_not(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    high = _open(customer, priority="high")
    urgent = _open(customer, priority="urgent", subject="Everything is down")
    alert = wait_for_mail(inbox, OPS, f"urgent support ticket #{urgent}")
    assert "Everything is down" in alert.get_content()
    wait_for_mail(inbox, SUPPORT, f"#{urgent}]")
    wait_for_mail(inbox, SUPPORT, f"#{high}]")
    time.sleep(0.5)
    assert [m["Subject"] for m in mails_to(inbox, OPS)] == [
        f"[NemoRDP alert] urgent support ticket #{urgent}"
    ]


def test_a_customer_reply_is_emailed_to_support(client: FlaskClient, inbox: Mailbox) -> None:
    customer = Customer(client)
    ticket_id = _open(customer)
    customer.post(f"/api/support/tickets/{ticket_id}/replies", json={"message": "Any news?"})
    reply = wait_for_mail(inbox, SUPPORT, f"Re: [NemoRDP support #{ticket_id}]")
    assert "New reply" in reply.get_content() and "Any news?" in reply.get_content()


def test_a_staff_reply_is_emailed_only_to_customers_who_want_email(
    client: FlaskClient, app: Flask, database: Database, inbox: Mailbox
) -> None:
    customer = Customer(app.test_client())
    ticket_id = _open(customer)
    staff = make_staff(Customer(client), database)
    preferences = customer.get("/api/account/preferences").get_json()
    customer.put("/api/account/preferences", json={**preferences, "email_notifications": False})
    base = f"/api/support/staff/tickets/{ticket_id}/replies"
    assert staff.post(base, json={"message": "First answer, unsent"}).status_code == 201

    customer.put("/api/account/preferences", json={**preferences, "email_notifications": True})
    assert staff.post(base, json={"message": "Second answer"}).status_code == 201
    message = wait_for_mail(inbox, customer.email, f"Re: [NemoRDP support #{ticket_id}]")
    assert "Second answer" in message.get_content()
    assert staff.email not in message.get_content()
    time.sleep(0.5)
    replies = [m for m in mails_to(inbox, customer.email) if "support #" in str(m["Subject"])]
    assert len(replies) == 1


def test_raising_a_ticket_to_urgent_alerts_ops(
    client: FlaskClient, app: Flask, database: Database, inbox: Mailbox
) -> None:
    customer = Customer(app.test_client())
    ticket_id = _open(customer, priority="low")
    staff = make_staff(Customer(client), database)
    response = client.patch(
        f"/api/support/staff/tickets/{ticket_id}",
        json={"priority": "urgent"},
        headers={"X-CSRF-Token": staff.csrf},
    )
    assert response.status_code == 200
    wait_for_mail(inbox, OPS, f"urgent support ticket #{ticket_id}")
