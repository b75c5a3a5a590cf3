"""The support centre: the FAQ, customers' tickets, and the staff queue under /staff."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.auth import require_staff
from app.schemas.support import (
    FaqSchema,
    ReplySchema,
    StaffReplySchema,
    StaffTicketListArgsSchema,
    StaffTicketPageSchema,
    StaffTicketSchema,
    StaffTicketUpdateSchema,
    StaffTicketViewSchema,
    TicketCreateSchema,
    TicketListArgsSchema,
    TicketMessageSchema,
    TicketPageSchema,
    TicketSchema,
)
from app.services import support

blp = Blueprint("support", __name__, url_prefix="/api/support", description="Support centre")

# The FAQ changes only with a deployment: browsers and proxies may keep it for an hour.
FAQ_CACHE = {"Cache-Control": "public, max-age=3600"}


@blp.route("/faq", methods=["GET"])
@blp.response(200, FaqSchema)
def faq() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The frequently asked questions (public, served from memory)."""
    return {"faqs": support.faq()}, 200, FAQ_CACHE


@blp.route("/tickets", methods=["POST"])
@blp.arguments(TicketCreateSchema)
@blp.response(201, TicketSchema)
@login_required
def open_ticket(body: dict[str, str]) -> Any:
    """Open a ticket; support is e-mailed, and ops too when it is urgent."""
    return support.open_ticket(current_user, body["subject"], body["priority"], body["message"])


@blp.route("/tickets", methods=["GET"])
@blp.arguments(TicketListArgsSchema, location="query")
@blp.response(200, TicketPageSchema)
@login_required
def list_tickets(args: dict[str, Any]) -> Any:
    """The caller's tickets, newest first."""
    return support.list_for(current_user, args["page"], args["per_page"], args.get("status"))


@blp.route("/tickets/<int:ticket_id>", methods=["GET"])
@blp.response(200, TicketSchema)
@login_required
def get_ticket(ticket_id: int) -> Any:
    """One of the caller's tickets with its thread."""
    return support.get_for(current_user, ticket_id)


@blp.route("/tickets/<int:ticket_id>/replies", methods=["POST"])
@blp.arguments(ReplySchema)
@blp.response(201, TicketMessageSchema)
@login_required
def reply(body: dict[str, str], ticket_id: int) -> Any:
    """Add a message to the thread of one of the caller's open tickets."""
    return support.reply(current_user, ticket_id, body["message"])


@blp.route("/tickets/<int:ticket_id>/close", methods=["POST"])
@blp.response(200, TicketSchema)
@login_required
def close_ticket(ticket_id: int) -> Any:
    """Close a ticket (closing a closed one changes nothing)."""
    return support.close(current_user, ticket_id)


@blp.route("/tickets/<int:ticket_id>/reopen", methods=["POST"])
@blp.response(200, TicketSchema)
@login_required
def reopen_ticket(ticket_id: int) -> Any:
    """Reopen a closed ticket."""
    return support.reopen(current_user, ticket_id)


# -- staff --------------------------------------------------------------------------------
@blp.route("/staff/tickets", methods=["GET"])
@blp.arguments(StaffTicketListArgsSchema, location="query")
@blp.response(200, StaffTicketPageSchema)
@require_staff
def staff_list_tickets(args: dict[str, Any]) -> Any:
    """Every customer's tickets, most recently active first, by status and priority."""
    return support.staff_list(
        args["page"], args["per_page"], args.get("status"), args.get("priority")
    )


@blp.route("/staff/tickets/<int:ticket_id>", methods=["GET"])
@blp.response(200, StaffTicketViewSchema)
@require_staff
def staff_get_ticket(ticket_id: int) -> Any:
    """A ticket with its thread and the customer's machines (never their credentials)."""
    return support.staff_view(ticket_id)


@blp.route("/staff/tickets/<int:ticket_id>", methods=["PATCH"])
@blp.arguments(StaffTicketUpdateSchema)
@blp.response(200, StaffTicketSchema)
@require_staff
def staff_update_ticket(body: dict[str, str], ticket_id: int) -> Any:
    """Change a ticket's status or priority."""
    return support.staff_update(current_user, ticket_id, **body)


@blp.route("/staff/tickets/<int:ticket_id>/replies", methods=["POST"])
@blp.arguments(StaffReplySchema)
@blp.response(201, TicketMessageSchema)
@require_staff
def staff_reply(body: dict[str, str], ticket_id: int) -> Any:
    """Answer a ticket; the customer is e-mailed if they want e-mail."""
    return support.staff_reply(current_user, ticket_id, body["message"], body.get("status"))
