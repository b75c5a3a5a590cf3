"""One-line fields refuse every line and paragraph separator, and a mail that cannot be
composed or sent fails loudly (logged, alerted) instead of vanishing."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema
from sqlalchemy import update

from app.models import SupportTicket
from app.schemas.account import (
    CodeSchema,
    LinkTokenSchema,
    PasswordResetSchema,
    TwoFactorDisableSchema,
)
from app.schemas.agent import HeartbeatSchema
from app.schemas.auth import (
    LoginSchema,
    ProfileUpdateSchema,
    TokenCreateSchema,
    TwoFactorLoginSchema,
)
from app.schemas.billing import PlanChangeSchema
from app.schemas.instances import OrderSchema
from app.schemas.support import TicketCreateSchema
from app.services.tasks import enqueue
from tests.support.accounts import mails_to, wait_for_mail
from tests.support.api import Customer, error_of
from tests.support.database import Database
from tests.support.mailbox import Mailbox

SUPPORT = "support@nemordp.local"
OPS = "ops@nemordp.local"

SEPARATORS = {
    "CR": "\r",
    "LF": "\n",
    "NEL": "\u0085",
    "LINE SEPARATOR": "\u2028",
    "PARAGRAPH SEPARATOR": "\u2029",
}

# Every one-line text a request may carry, with a valid body around it.
SINGLE_LINE_FIELDS: list[tuple[type[Schema], str, dict[str, object]]] = [
    (TicketCreateSchema, "subject", {"subject": "Down", "message": "RDP says no."}),
    (ProfileUpdateSchema, "full_name", {"full_name": "Dave Example"}),
    (TokenCreateSchema, "name", {"name": "deploy"}),
    (LoginSchema, "email", {"email": "dave@example.com", "password": "x"}),
    (TwoFactorLoginSchema, "challenge", {"challenge": "abc", "code": "123456"}),
    (TwoFactorLoginSchema, "code", {"challenge": "abc", "code": "123456"}),
    (CodeSchema, "code", {"code": "123456"}),
    (TwoFactorDisableSchema, "code", {"password": "x", "code": "123456"}),
    (LinkTokenSchema, "token", {"token": "abc"}),
    (PasswordResetSchema, "token", {"token": "abc", "password": "a long new password"}),
    (OrderSchema, "plan", {"plan": "basic", "os_type": "linux", "region": "us-east"}),
    (OrderSchema, "region", {"plan": "basic", "os_type": "linux", "region": "us-east"}),
    (PlanChangeSchema, "new_plan", {"instance_id": 1, "new_plan": "pro"}),
    (HeartbeatSchema, "agent_version", {"instance_id": 1, "sessions": 0, "agent_version": "1"}),
]


@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=SEPARATORS.keys())
@pytest.mark.parametrize(
    ("schema", "field", "body"),
    SINGLE_LINE_FIELDS,
    ids=[f"{schema.__name__}.{field}" for schema, field, _ in SINGLE_LINE_FIELDS],
)
def test_every_single_line_field_refuses_line_and_paragraph_separators(
    schema: type[Schema], field: str, body: dict[str, object], separator: str
) -> None:
    assert schema().validate(body) == {}
    errors = schema().validate({**body, field: f"first{separator}second"})
    assert set(errors) == {field}


@pytest.mark.parametrize("separator", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_a_ticket_subject_with_a_line_break_is_422_naming_the_subject(
    client: FlaskClient, separator: str
) -> None:
    customer = Customer(client)
    body = {"subject": f"Help{separator}Bcc: everyone@example.com", "message": "Hi."}
    response = customer.post("/api/support/tickets", json=body)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"subject"}
    assert customer.get("/api/support/tickets").get_json()["total"] == 0


def test_a_name_with_a_line_separator_is_422_naming_the_field(client: FlaskClient) -> None:
    customer = Customer(client)
    response = customer.put("/api/auth/profile", json={"full_name": "Dave\u2028Example"})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"full_name"}


def test_a_mail_that_cannot_be_composed_fails_its_task_and_alerts_ops(
    client: FlaskClient, app: Flask, database: Database, inbox: Mailbox
) -> None:
    """A subject stored before separators were refused cannot go in a header: the task
    fails, and ops hear of it."""
    customer = Customer(client)
    created = customer.post("/api/support/tickets", json={"subject": "Down", "message": "Hi."})
    ticket = created.get_json()
    wait_for_mail(inbox, SUPPORT, f"#{ticket['id']}]")
    with database.session() as session:
        session.execute(
            update(SupportTicket)
            .where(SupportTicket.id == ticket["id"])
            .values(subject="Down\u2028Bcc: everyone@example.com")
        )
        session.commit()
    message_id = ticket["messages"][0]["id"]
    with app.app_context():
        assert enqueue("email.send_support_ticket_message", message_id) is not None

    alert = wait_for_mail(inbox, OPS, "a mail could not be sent")
    content = alert.get_content()
    assert "email.send_support_ticket_message" in content
    assert f"({message_id},)" in content and "ValueError" in content
    time.sleep(0.5)
    assert len(mails_to(inbox, SUPPORT)) == 1  # only the first, well-formed one
