"""Helpers for the account and support tests: staff, e-mailed links, codes and SMTP faults."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pyotp
from flask import Flask
from sqlalchemy import select, update

from app.models import EmailToken, Role, User
from app.services.account_settings import link_for
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.mailbox import Mailbox


def make_staff(customer: Customer, database: Database, role: str = Role.STAFF) -> Customer:
    """Give a signed-up customer the staff (or admin) role."""
    with database.session() as session:
        session.execute(update(User).where(User.id == customer.id).values(role=role))
        session.commit()
    return customer


def wait_for_mail(
    inbox: Mailbox, to: str, subject_contains: str, timeout: float = 15.0
) -> EmailMessage:
    """The first message to an address whose subject contains a text, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with inbox.lock:
            for message in inbox.messages:
                if to in str(message["To"]) and subject_contains in str(message["Subject"]):
                    return message
        time.sleep(0.05)
    subjects = [(str(m["To"]), str(m["Subject"])) for m in inbox.messages]
    raise AssertionError(f"no e-mail to {to} about {subject_contains!r}; got {subjects}")


def mails_to(inbox: Mailbox, to: str) -> list[EmailMessage]:
    with inbox.lock:
        return [m for m in inbox.messages if to in str(m["To"])]


def link_token(message: EmailMessage) -> str:
    """The token of the link in an e-mail."""
    found = re.search(r"\?token=([A-Za-z0-9_.\-]+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def latest_link_token(app: Flask, database: Database, purpose: str) -> str:
    """The token of the link the last e-mail of this purpose carries (made as its task does)."""
    token = database.scalar(
        select(EmailToken).where(EmailToken.purpose == purpose).order_by(EmailToken.id.desc())
    )
    assert token is not None, f"no {purpose} link was asked for"
    with app.app_context():
        link = link_for(token)
    return link.rpartition("?token=")[2]


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """A code for this 30-second step, or a later one (each step's code works only once)."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=steps_ahead)


@contextmanager
def smtp_refusing(inbox: Mailbox, times: int) -> Iterator[list[Any]]:
    """The local SMTP server answers 451 (try later) to the next ``times`` messages."""
    original = inbox.controller.handler
    refused: list[Any] = []

    class Refusing:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if len(refused) < times:
                refused.append(envelope.rcpt_tos)
                return "451 4.3.0 Try again later"
            return str(await original.handle_DATA(server, session, envelope))

    inbox.controller.handler = Refusing()
    try:
        yield refused
    finally:
        inbox.controller.handler = original
