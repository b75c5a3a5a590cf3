"""The support centre: the FAQ, customers' tickets and the staff queue.

Customers reach only their own tickets (anything else is a 404); staff reach every ticket
but never a machine's credentials. Messages are plain text, stored as written. Every new
ticket and customer reply is e-mailed to the support address, a staff reply to the customer
(if they want e-mail), and an urgent ticket is also raised to ops.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import task_names
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    Instance,
    SupportTicket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    User,
)
from app.models.base import utcnow
from app.services import audit
from app.services.pagination import Page, paginate
from app.services.tasks import enqueue

logger = logging.getLogger(__name__)

FAQ_FILE = Path(__file__).resolve().parent.parent / "data" / "faq.json"
S = TicketStatus


@cache
def faq() -> list[dict[str, str]]:
    """The FAQ entries, read from app/data/faq.json once per process."""
    entries: list[dict[str, str]] = json.loads(FAQ_FILE.read_text())["faqs"]
    return entries


# -- customers ----------------------------------------------------------------------------
def open_ticket(user: User, subject: str, priority: str, message: str) -> SupportTicket:
    ticket = SupportTicket(user_id=user.id, subject=subject.strip(), priority=priority)
    first = TicketMessage(ticket=ticket, author_id=user.id, from_staff=False, body=message)
    db.session.add_all([ticket, first])
    db.session.flush()
    audit.record("support.ticket_opened", user.id, ticket_id=ticket.id, priority=priority)
    db.session.commit()
    enqueue(task_names.SEND_SUPPORT_TICKET_MESSAGE, first.id)
    if priority == TicketPriority.URGENT:
        _raise_urgent(ticket)
    return ticket


def list_for(
    user: User, page: int, per_page: int, status: str | None = None
) -> Page[SupportTicket]:
    """The customer's tickets, newest first."""
    query = select(SupportTicket).where(SupportTicket.user_id == user.id)
    if status is not None:
        query = query.where(SupportTicket.status == status)
    ordered = query.order_by(SupportTicket.created_at.desc(), SupportTicket.id.desc())
    return paginate(ordered, page, per_page)


def get_for(user: User, ticket_id: int, *, lock: bool = False) -> SupportTicket:
    """The customer's own ticket, or 404 (whether it exists or is someone else's)."""
    query = select(SupportTicket).where(
        SupportTicket.id == ticket_id, SupportTicket.user_id == user.id
    )
    ticket = db.session.scalar(query.with_for_update(of=SupportTicket) if lock else query)
    if ticket is None:
        raise NotFound("Ticket not found.")
    return ticket


def reply(user: User, ticket_id: int, body: str) -> TicketMessage:
    """The customer adds to the thread; support is told."""
    ticket = get_for(user, ticket_id, lock=True)
    if ticket.status == S.CLOSED:
        raise Conflict("This ticket is closed; reopen it to reply.")
    message = TicketMessage(ticket=ticket, author_id=user.id, from_staff=False, body=body)
    db.session.add(message)
    if ticket.status == S.WAITING_ON_CUSTOMER:
        ticket.status = S.OPEN
    ticket.updated_at = utcnow()
    db.session.commit()
    enqueue(task_names.SEND_SUPPORT_TICKET_MESSAGE, message.id)
    return message


def close(user: User, ticket_id: int) -> SupportTicket:
    ticket = get_for(user, ticket_id, lock=True)
    if ticket.status != S.CLOSED:
        _set_status(ticket, S.CLOSED)
        audit.record("support.ticket_closed", user.id, ticket_id=ticket.id)
    db.session.commit()
    return ticket


def reopen(user: User, ticket_id: int) -> SupportTicket:
    ticket = get_for(user, ticket_id, lock=True)
    if ticket.status == S.CLOSED:
        _set_status(ticket, S.OPEN)
        audit.record("support.ticket_reopened", user.id, ticket_id=ticket.id)
    db.session.commit()
    return ticket


# -- staff --------------------------------------------------------------------------------
def staff_list(
    page: int, per_page: int, status: str | None = None, priority: str | None = None
) -> Page[SupportTicket]:
    """Every ticket, the most recently active first, optionally filtered."""
    query = select(SupportTicket)
    if status is not None:
        query = query.where(SupportTicket.status == status)
    if priority is not None:
        query = query.where(SupportTicket.priority == priority)
    ordered = query.options(selectinload(SupportTicket.user)).order_by(
        SupportTicket.updated_at.desc(), SupportTicket.id.desc()
    )
    return paginate(ordered, page, per_page)


def staff_get(ticket_id: int, *, lock: bool = False) -> SupportTicket:
    query = select(SupportTicket).where(SupportTicket.id == ticket_id)
    ticket = db.session.scalar(query.with_for_update(of=SupportTicket) if lock else query)
    if ticket is None:
        raise NotFound("Ticket not found.")
    return ticket


def customer_machines(ticket: SupportTicket) -> list[Instance]:
    """The ticket owner's machines, for context (the schema never carries credentials)."""
    query = (
        select(Instance)
        .where(Instance.user_id == ticket.user_id)
        .order_by(Instance.created_at.desc(), Instance.id.desc())
        .limit(50)
    )
    return list(db.session.scalars(query))


def staff_view(ticket_id: int) -> dict[str, Any]:
    ticket = staff_get(ticket_id)
    return {"ticket": ticket, "customer_machines": customer_machines(ticket)}


def staff_reply(staff: User, ticket_id: int, body: str, status: str | None) -> TicketMessage:
    """Staff answer; the ticket waits on the customer unless another status is given."""
    ticket = staff_get(ticket_id, lock=True)
    message = TicketMessage(ticket=ticket, author_id=staff.id, from_staff=True, body=body)
    db.session.add(message)
    _set_status(ticket, status or S.WAITING_ON_CUSTOMER)
    db.session.flush()
    audit.record("support.staff_replied", staff.id, ticket_id=ticket.id, message_id=message.id)
    db.session.commit()
    customer = ticket.user
    if customer.is_active and customer.email_notifications:
        enqueue(task_names.SEND_TICKET_REPLY, message.id)
    return message


def staff_update(
    staff: User, ticket_id: int, *, status: str | None = None, priority: str | None = None
) -> SupportTicket:
    """Change a ticket's status or priority; raising it to urgent alerts ops."""
    ticket = staff_get(ticket_id, lock=True)
    changes: dict[str, Any] = {}
    if status is not None and status != ticket.status:
        changes["status"] = [ticket.status, status]
        _set_status(ticket, status)
    escalated = priority == TicketPriority.URGENT and ticket.priority != TicketPriority.URGENT
    if priority is not None and priority != ticket.priority:
        changes["priority"] = [ticket.priority, priority]
        ticket.priority = priority
        ticket.updated_at = utcnow()
    if changes:
        audit.record("support.ticket_updated", staff.id, ticket_id=ticket.id, **changes)
    db.session.commit()
    if escalated:
        _raise_urgent(ticket)
    return ticket


# -- helpers ------------------------------------------------------------------------------
def _set_status(ticket: SupportTicket, status: str) -> None:
    now = utcnow()
    ticket.status = status
    ticket.closed_at = now if status == S.CLOSED else None
    ticket.updated_at = now


def _raise_urgent(ticket: SupportTicket) -> None:
    """Ops hear of urgent tickets at once, not only through the support inbox."""
    logger.warning("urgent support ticket %s", ticket.id, extra={"ticket_id": ticket.id})
    enqueue(task_names.SEND_URGENT_TICKET_ALERT, ticket.id)
