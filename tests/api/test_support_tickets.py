"""The customer's side of the support centre: the FAQ and their own tickets."""

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent, SupportTicket, TicketMessage
from tests.support.api import Customer, error_of
from tests.support.database import Database

TICKET = {"subject": "Cannot connect", "priority": "high", "message": "RDP says no.\nHelp!"}
SEED_QUESTIONS = [
    "How long does it take to provision an RDP?",
    "Can I install my own software?",
    "What happens if I exceed my bandwidth limit?",
    "How do I connect to my RDP?",
    "Can I get a refund?",
]


def test_the_faq_is_public_holds_the_seeds_questions_and_needs_no_database(
    client: FlaskClient, database: Database
) -> None:
    client.get("/api/support/faq")  # the first call reads the file
    with database.statements() as statements:
        response = client.get("/api/support/faq")
    assert response.status_code == 200 and statements == []
    with database.statements() as statements:
        client.get("/api/health")
    assert statements, "the listener sees the queries of a route that makes some"
    assert "max-age" in response.headers["Cache-Control"]
    faqs = response.get_json()["faqs"]
    assert [f["question"] for f in faqs[:5]] == SEED_QUESTIONS
    assert faqs[0]["answer"].startswith("Most RDP instances are ready within 2-3 minutes.")
    assert all(set(f) == {"category", "question", "answer"} for f in faqs)


def test_opening_a_ticket_returns_it_with_its_first_message(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    response = customer.post("/api/support/tickets", json=TICKET)
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["subject"] == "Cannot connect" and ticket["priority"] == "high"
    assert ticket["status"] == "open" and ticket["closed_at"] is None
    assert [(m["author"], m["body"]) for m in ticket["messages"]] == [
        ("customer", "RDP says no.\nHelp!")
    ]
    assert client.get(f"/api/support/tickets/{ticket['id']}").get_json() == ticket
    stored = database.get(SupportTicket, ticket["id"])
    assert stored is not None and stored.user_id == customer.id
    actions = database.scalars(select(AuditEvent.action))
    assert "support.ticket_opened" in actions


def test_the_priority_defaults_to_medium_as_in_the_seeds_form(client: FlaskClient) -> None:
    customer = Customer(client)
    body = {"subject": "Question", "message": "How do I resize?"}
    assert customer.post("/api/support/tickets", json=body).get_json()["priority"] == "medium"


def test_bad_tickets_are_422_per_field_and_write_nothing(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    cases = [
        ({**TICKET, "subject": "x" * 201}, "subject"),
        ({**TICKET, "subject": "   "}, "subject"),
        ({**TICKET, "subject": "Hi\r\nBcc: everyone@example.com"}, "subject"),
        ({**TICKET, "priority": "critical"}, "priority"),
        ({**TICKET, "priority": None}, "priority"),
        ({**TICKET, "message": "x" * 10_001}, "message"),
        ({**TICKET, "message": "\n\t "}, "message"),
        ({**TICKET, "message": "null \x00 byte"}, "message"),
        ({**TICKET, "message": ["a list"]}, "message"),
        ({"subject": "No message"}, "message"),
        ({**TICKET, "user_id": 1}, "user_id"),
    ]
    for body, field in cases:
        response = customer.post("/api/support/tickets", json=body)
        assert response.status_code == 422, body
        assert field in error_of(response)["fields"], (body, error_of(response))
    assert database.count(SupportTicket) == 0 and database.count(TicketMessage) == 0


def test_the_limits_themselves_are_accepted(client: FlaskClient) -> None:
    customer = Customer(client)
    body = {"subject": "s" * 200, "priority": "low", "message": "m" * 10_000}
    assert customer.post("/api/support/tickets", json=body).status_code == 201


def test_markup_is_stored_as_text_and_only_ever_returned_as_json(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    script = '<script>alert("hi")</script><img src=x onerror=alert(1)>'
    response = customer.post(
        "/api/support/tickets", json={"subject": "<b>bold</b>", "message": script}
    )
    assert response.status_code == 201 and response.mimetype == "application/json"
    ticket_id = response.get_json()["id"]
    assert database.scalar(select(TicketMessage.body)) == script
    assert database.scalar(select(SupportTicket.subject)) == "<b>bold</b>"
    shown = client.get(f"/api/support/tickets/{ticket_id}")
    assert shown.mimetype == "application/json"
    assert shown.get_json()["messages"][0]["body"] == script


def test_my_tickets_are_listed_newest_first_paginated_and_filtered(
    client: FlaskClient, app: Flask
) -> None:
    customer = Customer(client)
    ids = [
        customer.post("/api/support/tickets", json={**TICKET, "subject": f"Issue {n}"}).get_json()[
            "id"
        ]
        for n in range(3)
    ]
    Customer(app.test_client()).post("/api/support/tickets", json=TICKET)
    customer.post(f"/api/support/tickets/{ids[0]}/close")

    page = client.get("/api/support/tickets?per_page=2").get_json()
    assert page["total"] == 3 and [t["id"] for t in page["tickets"]] == [ids[2], ids[1]]
    assert "messages" not in page["tickets"][0]
    second = client.get("/api/support/tickets?per_page=2&page=2").get_json()
    assert [t["id"] for t in second["tickets"]] == [ids[0]]
    closed = client.get("/api/support/tickets?status=closed").get_json()
    assert [t["id"] for t in closed["tickets"]] == [ids[0]]
    for bad in ("per_page=0", "per_page=101", "page=0", "status=lost"):
        assert client.get(f"/api/support/tickets?{bad}").status_code == 422, bad


def test_someone_elses_ticket_is_404_on_every_route_and_stays_untouched(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    owner = Customer(client)
    ticket_id = owner.post("/api/support/tickets", json=TICKET).get_json()["id"]
    intruder = Customer(app.test_client())
    base = f"/api/support/tickets/{ticket_id}"
    assert intruder.get(base).status_code == 404
    reply = intruder.post(f"{base}/replies", json={"message": "I see you"})
    assert reply.status_code == 404 and error_of(reply)["code"] == "not_found"
    assert intruder.post(f"{base}/close").status_code == 404
    assert intruder.post(f"{base}/reopen").status_code == 404
    assert intruder.get("/api/support/tickets").get_json()["total"] == 0
    assert database.count(TicketMessage) == 1
    assert database.scalar(select(SupportTicket.status)) == "open"
    assert client.get("/api/support/tickets/999999").status_code == 404


def test_replies_join_the_thread_and_a_closed_ticket_takes_none_until_reopened(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    ticket_id = customer.post("/api/support/tickets", json=TICKET).get_json()["id"]
    base = f"/api/support/tickets/{ticket_id}"
    reply = customer.post(f"{base}/replies", json={"message": "Still broken."})
    assert reply.status_code == 201 and reply.get_json()["author"] == "customer"
    assert customer.post(f"{base}/replies", json={"message": "x" * 10_001}).status_code == 422

    closed = customer.post(f"{base}/close").get_json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    refused = customer.post(f"{base}/replies", json={"message": "One more thing"})
    assert refused.status_code == 409
    reopened = customer.post(f"{base}/reopen").get_json()
    assert reopened["status"] == "open" and reopened["closed_at"] is None
    assert customer.post(f"{base}/replies", json={"message": "One more thing"}).status_code == 201
    thread = client.get(base).get_json()["messages"]
    assert [m["body"] for m in thread] == [TICKET["message"], "Still broken.", "One more thing"]
    assert database.count(TicketMessage) == 3


def test_tickets_need_a_signed_in_caller(client: FlaskClient, database: Database) -> None:
    assert client.post("/api/support/tickets", json=TICKET).status_code == 401
    assert client.get("/api/support/tickets").status_code == 401
    assert database.count(SupportTicket) == 0
