"""Bodies of /api/billing. Amounts are integer minor units (cents) with their currency."""

from marshmallow import Schema, fields, validate

from app.ids import ID_RANGE
from app.schemas.common import SingleLine
from app.schemas.instances import JobSchema


class SubscriptionSchema(Schema):
    id = fields.String(attribute="stripe_subscription_id", required=True)
    instance_id = fields.Integer(required=True)
    instance_label = fields.Function(lambda s: s.instance.label, required=True)
    plan = fields.Function(lambda s: s.plan.code, required=True)
    plan_name = fields.Function(lambda s: s.plan.name, required=True)
    status = fields.String(required=True)
    amount = fields.Integer(attribute="amount_cents", required=True)
    currency = fields.String(required=True)
    current_period_start = fields.DateTime(allow_none=True)
    current_period_end = fields.DateTime(allow_none=True)
    cancel_at_period_end = fields.Boolean(required=True)
    past_due_since = fields.DateTime(allow_none=True)


class SubscriptionSummarySchema(Schema):
    """The seed's fields for the newest live subscription, and every subscription."""

    status = fields.String(required=True)
    subscription_id = fields.String(allow_none=True)
    current_period_start = fields.DateTime(allow_none=True)
    current_period_end = fields.DateTime(allow_none=True)
    plan_name = fields.String(allow_none=True)
    amount = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    cancel_at_period_end = fields.Boolean(required=True)
    subscriptions = fields.List(fields.Nested(SubscriptionSchema), required=True)


class CancelSchema(Schema):
    instance_id = fields.Integer(load_default=None, validate=ID_RANGE)


class InvoiceSchema(Schema):
    id = fields.String(attribute="stripe_invoice_id", required=True)
    amount_paid = fields.Integer(required=True)
    amount_due = fields.Integer(required=True)
    # Given back of amount_paid; ``refunded`` once all of it was.
    amount_refunded = fields.Integer(required=True)
    refunded = fields.Function(
        lambda invoice: 0 < invoice.amount_paid <= invoice.amount_refunded, required=True
    )
    currency = fields.String(required=True)
    status = fields.String(required=True)
    created = fields.DateTime(required=True)
    invoice_pdf = fields.String(allow_none=True)
    hosted_invoice_url = fields.String(allow_none=True)


class InvoicePageSchema(Schema):
    items = fields.List(fields.Nested(InvoiceSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class PlanChangeSchema(Schema):
    instance_id = fields.Integer(required=True, validate=ID_RANGE)
    new_plan = fields.String(required=True, validate=[validate.Length(min=1, max=32), SingleLine()])


class ProrationSchema(Schema):
    amount_due = fields.Integer(required=True)
    currency = fields.String(required=True)


class PlanChangeStartedSchema(Schema):
    job = fields.Nested(JobSchema, required=True)
    proration = fields.Nested(ProrationSchema, required=True)


class WebhookReceivedSchema(Schema):
    received = fields.Boolean(required=True)
    duplicate = fields.Boolean(required=True)
