"""Billing: subscriptions and invoices from our mirror of Stripe, plan changes and
cancellations as jobs, and Stripe's webhook."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.schemas.billing import (
    CancelSchema,
    InvoicePageSchema,
    PlanChangeSchema,
    PlanChangeStartedSchema,
    PlanPreviewSchema,
    ProrationSchema,
    SubscriptionSummarySchema,
    WebhookReceivedSchema,
    plan_change_of,
)
from app.schemas.instances import JobListSchema, PageArgsSchema
from app.services import billing, billing_events

blp = Blueprint("billing", __name__, url_prefix="/api/billing", description="Billing")


@blp.route("/subscription", methods=["GET"])
@blp.response(200, SubscriptionSummarySchema)
@login_required
def get_subscription() -> Any:
    """The caller's subscriptions, one per machine."""
    return billing.summary(current_user)


@blp.route("/cancel-subscription", methods=["POST"])
@blp.arguments(CancelSchema, required=False)
@blp.response(202, JobListSchema)
@login_required
def cancel_subscription(body: dict[str, Any]) -> Any:
    """Cancel at period end: one machine's subscription (the only one, if none is named),
    or every one with `all`."""
    jobs = billing.request_cancel(current_user, body["instance_id"], every=body["all"])
    return {"jobs": jobs}


@blp.route("/invoices", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, InvoicePageSchema)
@login_required
def list_invoices(args: dict[str, int]) -> Any:
    """The caller's invoices, newest first."""
    return billing.invoices_for(current_user, args["page"], args["per_page"])


@blp.route("/upgrade-preview", methods=["GET"])
@blp.arguments(PlanPreviewSchema, location="query")
@blp.response(200, ProrationSchema)
@login_required
def preview_plan_change(args: dict[str, Any]) -> Any:
    """What a plan change would invoice now (negative: a credit)."""
    return billing.preview(current_user, args.get("instance_id"), args["new_plan"])


@blp.route("/upgrade-plan", methods=["POST"])
@blp.arguments(PlanChangeSchema, location="query")
@blp.arguments(PlanChangeSchema, required=False)
@blp.response(202, PlanChangeStartedSchema)
@login_required
def change_plan(query: dict[str, Any], body: dict[str, Any]) -> Any:
    """Move a machine to another plan: prorated, invoiced at once, then resized by a job.
    `new_plan` and `instance_id` come in the query string (the seed's form) or the body."""
    instance_id, new_plan = plan_change_of(query, body)
    job, proration = billing.request_plan_change(current_user, instance_id, new_plan)
    return {"job": job, "proration": proration}


@blp.route("/webhook", methods=["POST"])
@blp.response(200, WebhookReceivedSchema)
def webhook() -> Any:
    """Stripe's events, verified by signature on the raw body and processed by a task."""
    new = billing_events.receive(
        request.get_data(), request.headers.get("Stripe-Signature"), request.remote_addr
    )
    return {"received": True, "duplicate": not new}
