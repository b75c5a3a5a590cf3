"""Customers: search, one account in full, its sign-ins and tokens, suspension and role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.auth import require_admin, require_staff
from app.models import Job, Role, User
from app.schemas.admin import (
    AdminCustomerSchema,
    AdminLoginSchema,
    AdminTokenSchema,
    CustomerDetailSchema,
    CustomerPageSchema,
    CustomerSearchArgsSchema,
    ReasonSchema,
    RoleChangeSchema,
    SuspensionSchema,
)
from app.services import admin_customers, suspension

blp = Blueprint(
    "admin_customers", __name__, url_prefix="/api/admin/customers", description="Admin: customers"
)


@blp.route("", methods=["GET"])
@blp.arguments(CustomerSearchArgsSchema, location="query")
@blp.response(200, CustomerPageSchema)
@require_staff
def search(args: dict[str, Any]) -> Any:
    """Accounts by e-mail, name or id, newest first (staff)."""
    return admin_customers.search(args.get("q"), args.get("role"), args["page"], args["per_page"])


@blp.route("/<int:user_id>", methods=["GET"])
@blp.response(200, CustomerDetailSchema)
@require_staff
def detail(user_id: int) -> dict[str, Any]:
    """One account with its machines, subscriptions, invoices, tickets, API tokens,
    sign-ins and audit trail (staff)."""
    return admin_customers.detail(user_id)


def _suspension(
    change: Callable[[User, User, str], list[Job]], user_id: int, reason: str
) -> dict[str, Any]:
    """Suspend the account or lift its suspension; answers it with the jobs that started."""
    user = admin_customers.get(user_id, lock=True)
    return {"customer": user, "jobs": change(current_user, user, reason)}


@blp.route("/<int:user_id>/suspend", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, SuspensionSchema)
@require_admin
def suspend(body: dict[str, str], user_id: int) -> dict[str, Any]:
    """Suspend the account: sign-in and orders refused, machines stopped, customer e-mailed
    (admin)."""
    return _suspension(suspension.suspend, user_id, body["reason"])


@blp.route("/<int:user_id>/unsuspend", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, SuspensionSchema)
@require_admin
def unsuspend(body: dict[str, str], user_id: int) -> dict[str, Any]:
    """Lift a suspension: the machines it stopped start again, customer e-mailed (admin)."""
    return _suspension(suspension.unsuspend, user_id, body["reason"])


@blp.route("/<int:user_id>/role", methods=["PUT"])
@blp.arguments(RoleChangeSchema)
@blp.response(200, AdminCustomerSchema)
@require_admin
def set_role(body: dict[str, str], user_id: int) -> Any:
    """Make the account a customer, staff or admin (admin)."""
    user = admin_customers.get(user_id, lock=True)
    return admin_customers.set_role(current_user, user, Role(body["role"]), body["reason"])


@blp.route("/<int:user_id>/logins/<int:login_id>/revoke", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, AdminLoginSchema)
@require_staff
def revoke_login(body: dict[str, str], user_id: int, login_id: int) -> Any:
    """End one sign-in of the account (staff)."""
    return admin_customers.revoke_login(current_user, user_id, login_id, body["reason"])


@blp.route("/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, AdminTokenSchema)
@require_staff
def revoke_token(body: dict[str, str], user_id: int, token_id: int) -> Any:
    """Revoke one API token of the account (staff)."""
    return admin_customers.revoke_token(current_user, user_id, token_id, body["reason"])
