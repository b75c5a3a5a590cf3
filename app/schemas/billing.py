"""Bodies of /api/billing.

The fields the seed defines keep the seed's meaning: ``amount`` and an invoice's
``amount_paid`` are major units (29.0 for $29), ``current_period_start/_end`` and an
invoice's ``created`` are Unix seconds. Every amount of ours is integer minor units named
``*_cents``, and every moment of ours an ISO 8601 time named ``*_at``.
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.errors import ValidationFailed
from app.ids import ID_RANGE
from app.schemas.common import SingleLine
from app.schemas.instances import JobSchema

SEED = "As the seed defines it: "


class UnixSeconds(fields.Integer):
    """A moment as whole seconds since the epoch, as Stripe (and so the seed) gives it."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else int(value.timestamp())


class MajorUnits(fields.Float):
    """An amount kept in cents, in major units as the seed gives it (2900 → 29.0)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else int(value) / 100


def _amount(name: str, attribute: str, **kwargs: Any) -> MajorUnits:
    return MajorUnits(
        attribute=attribute,
        dump_only=True,  # shares its attribute with the `_cents` field
        metadata={"description": SEED + f"major units (`{name}_cents` / 100)."},
        **kwargs,
    )


def _unix(attribute: str, **kwargs: Any) -> UnixSeconds:
    return UnixSeconds(
        attribute=attribute,
        dump_only=True,  # shares its attribute with the `_at` field
        metadata={"description": SEED + f"Unix seconds (`{attribute}_at`: ISO 8601)."},
        **kwargs,
    )


class SubscriptionSchema(Schema):
    id = fields.String(attribute="stripe_subscription_id", required=True)
    instance_id = fields.Integer(required=True)
    instance_label = fields.Function(lambda s: s.instance.name, required=True)
    plan = fields.Function(lambda s: s.plan.code, required=True)
    plan_name = fields.Function(lambda s: s.plan.name, required=True)
    status = fields.String(required=True)
    amount = _amount("amount", "amount_cents", required=True)
    amount_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    current_period_start = _unix("current_period_start", allow_none=True)
    current_period_end = _unix("current_period_end", allow_none=True)
    current_period_start_at = fields.DateTime(attribute="current_period_start", allow_none=True)
    current_period_end_at = fields.DateTime(attribute="current_period_end", allow_none=True)
    cancel_at_period_end = fields.Boolean(required=True)
    past_due_since = fields.DateTime(allow_none=True)


class SubscriptionSummarySchema(Schema):
    """The seed's fields for the newest active subscription (else the newest live one),
    their richer forms, and every subscription."""

    status = fields.String(
        required=True,
        metadata={
            "description": SEED + "the subscription's status, `no_subscription` when there "
            "never was one, `no_active_subscription` when none is live."
        },
    )
    subscription_id = fields.String(allow_none=True)
    current_period_start = _unix("current_period_start", allow_none=True)
    current_period_end = _unix("current_period_end", allow_none=True)
    current_period_start_at = fields.DateTime(attribute="current_period_start", allow_none=True)
    current_period_end_at = fields.DateTime(attribute="current_period_end", allow_none=True)
    plan_name = fields.String(allow_none=True)
    amount = _amount("amount", "amount_cents", allow_none=True)
    amount_cents = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    cancel_at_period_end = fields.Boolean(required=True)
    subscriptions = fields.List(fields.Nested(SubscriptionSchema), required=True)


class CancelSchema(Schema):
    instance_id = fields.Integer(
        load_default=None,
        validate=ID_RANGE,
        metadata={"description": "Optional when the account has one live subscription."},
    )
    all = fields.Boolean(
        load_default=False, metadata={"description": "Cancel every live subscription."}
    )

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        if data["all"] and data["instance_id"] is not None:
            raise ValidationError("Give instance_id or all, not both.", "all")


class InvoiceSchema(Schema):
    id = fields.String(attribute="stripe_invoice_id", required=True)
    amount_paid = _amount("amount_paid", "amount_paid", required=True)
    amount_paid_cents = fields.Integer(attribute="amount_paid", required=True)
    amount_due_cents = fields.Integer(attribute="amount_due", required=True)
    # Given back of amount_paid; ``refunded`` once all of it was.
    amount_refunded_cents = fields.Integer(attribute="amount_refunded", required=True)
    refunded = fields.Function(
        lambda invoice: 0 < invoice.amount_paid <= invoice.amount_refunded, required=True
    )
    currency = fields.String(required=True)
    status = fields.String(required=True)
    created = _unix("created", required=True)
    created_at = fields.DateTime(attribute="created", required=True)
    invoice_pdf = fields.String(allow_none=True)
    hosted_invoice_url = fields.String(allow_none=True)


class InvoicePageSchema(Schema):
    items = fields.List(fields.Nested(InvoiceSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class PlanChangeSchema(Schema):
    """Half of a plan change: the query string (the seed's form) or the body (ours)."""

    instance_id = fields.Integer(
        validate=ID_RANGE,
        metadata={"description": "Optional when the account has one live subscription."},
    )
    new_plan = fields.String(validate=[validate.Length(min=1, max=32), SingleLine()])


class PlanPreviewSchema(PlanChangeSchema):
    new_plan = fields.String(required=True, validate=[validate.Length(min=1, max=32), SingleLine()])


def plan_change_of(query: dict[str, Any], body: dict[str, Any]) -> tuple[int | None, str]:
    """The plan change asked for in the query string, the body, or both (never two
    different values for one field): ``(instance_id or None, new_plan)``."""
    merged = dict(query)
    for name, value in body.items():
        if merged.setdefault(name, value) != value:
            raise ValidationFailed(fields={name: ["Given twice with different values."]})
    if "new_plan" not in merged:
        raise ValidationFailed(fields={"new_plan": ["Missing data for required field."]})
    return merged.get("instance_id"), merged["new_plan"]


class ProrationSchema(Schema):
    amount_due_cents = fields.Integer(attribute="amount_due", required=True)
    currency = fields.String(required=True)


class PlanChangeStartedSchema(Schema):
    job = fields.Nested(JobSchema, required=True)
    proration = fields.Nested(ProrationSchema, required=True)


class WebhookReceivedSchema(Schema):
    received = fields.Boolean(required=True)
    duplicate = fields.Boolean(required=True)
