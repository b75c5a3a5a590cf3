"""Money: failed payments and dunning, refunds, cancelling subscriptions."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.auth import require_admin, require_staff
from app.schemas.admin import (
    AdminInvoiceSchema,
    AdminJobEnvelopeSchema,
    CancelSubscriptionSchema,
    DunningSchema,
    RefundSchema,
)
from app.services import admin_billing

blp = Blueprint(
    "admin_billing", __name__, url_prefix="/api/admin/billing", description="Admin: billing"
)


@blp.route("/dunning", methods=["GET"])
@blp.response(200, DunningSchema)
@require_staff
def dunning() -> dict[str, Any]:
    """Subscriptions whose payment failed, where each stands, and unpaid invoices (staff)."""
    return admin_billing.dunning()


@blp.route("/invoices/<int:invoice_id>/refund", methods=["POST"])
@blp.arguments(RefundSchema)
@blp.response(200, AdminInvoiceSchema)
@require_admin
def refund(body: dict[str, Any], invoice_id: int) -> Any:
    """Refund a paid invoice in full or in part through Stripe; shown on the customer's
    invoice history (admin)."""
    return admin_billing.refund(current_user, invoice_id, body["amount_cents"], body["reason"])


@blp.route("/subscriptions/<int:subscription_id>/cancel", methods=["POST"])
@blp.arguments(CancelSubscriptionSchema)
@blp.response(202, AdminJobEnvelopeSchema)
@require_admin
def cancel(body: dict[str, str], subscription_id: int) -> dict[str, Any]:
    """Cancel a subscription now (the machine is terminated) or at the end of its period
    (admin)."""
    return {
        "job": admin_billing.cancel(current_user, subscription_id, body["when"], body["reason"])
    }
