"""Bodies of /api/admin, the operator console's API.

Amounts are integer cents (``*_cents``), moments ISO 8601. Every action takes a ``reason``,
kept in the audit trail with what the action changed.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from app.ids import ID_RANGE
from app.models import FindingDecision, InstanceStatus, Role
from app.schemas.billing import InvoiceSchema
from app.schemas.common import SingleLine
from app.schemas.instances import InstanceSchema, JobSchema, PageArgsSchema
from app.schemas.support import PlainText, TicketSummarySchema

REASON = fields.String(
    required=True,
    validate=[validate.Length(min=3, max=500), PlainText(), SingleLine()],
    metadata={
        "description": "Why: kept in the audit trail (and told to the customer where "
        "they are e-mailed)."
    },
)
SHORT_TEXT = [validate.Length(min=1, max=64), SingleLine()]


def _page(name: str, item: type[Schema] | Schema) -> type[Schema]:
    """A page of ``name``: the items, how many there are in all, and which page."""
    return Schema.from_dict(
        {
            name: fields.List(fields.Nested(item), attribute="items", required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=f"Admin{name.title().replace('_', '')}Page",
    )


class ReasonSchema(Schema):
    reason = REASON


# -- customers ---------------------------------------------------------------------------
class CustomerSearchArgsSchema(PageArgsSchema):
    q = fields.String(
        validate=[validate.Length(min=1, max=254), SingleLine()],
        metadata={"description": "Part of the e-mail or name (any case), or the account id."},
    )
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))


class AdminCustomerSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    suspended_at = fields.DateTime(allow_none=True)
    suspension_reason = fields.String(allow_none=True)
    two_factor_enabled = fields.Boolean(required=True)
    deletion_requested_at = fields.DateTime(allow_none=True)
    erased_at = fields.DateTime(allow_none=True)
    stripe_customer_id = fields.String(allow_none=True)


CustomerPageSchema = _page("customers", AdminCustomerSchema)


class AdminInstanceSchema(InstanceSchema):
    """A machine as operators see it: never its credentials."""

    class Meta:
        exclude = ("checkout_url",)

    user_id = fields.Integer(required=True)
    owner_email = fields.Function(lambda i: i.user.email, required=True)
    provider_id = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    terminated_at = fields.DateTime(allow_none=True)
    last_heartbeat_at = fields.DateTime(allow_none=True)
    stripe_subscription_id = fields.String(allow_none=True)


class AdminSubscriptionSchema(Schema):
    id = fields.Integer(required=True)
    stripe_subscription_id = fields.String(required=True)
    instance_id = fields.Integer(required=True)
    plan = fields.Function(lambda s: s.plan.code, required=True)
    status = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    current_period_end = fields.DateTime(allow_none=True)
    cancel_at_period_end = fields.Boolean(required=True)
    past_due_since = fields.DateTime(allow_none=True)


class AdminInvoiceSchema(InvoiceSchema):
    invoice_id = fields.Integer(attribute="id", required=True, metadata={"description": "Ours."})
    user_id = fields.Integer(allow_none=True)
    stripe_subscription_id = fields.String(allow_none=True)


class AdminTokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)


class AdminLoginSchema(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    remember = fields.Boolean(required=True)


class AdminAuditEventSchema(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    action = fields.String(required=True)
    actor_id = fields.Integer(attribute="user_id", allow_none=True)
    target_type = fields.Function(lambda e: e.details.get("target_type"), allow_none=True)
    target_id = fields.Function(lambda e: e.details.get("target_id"), allow_none=True)
    customer_id = fields.Function(lambda e: e.details.get("customer_id"), allow_none=True)
    reason = fields.Function(lambda e: e.details.get("reason"), allow_none=True)
    before = fields.Function(lambda e: e.details.get("before"), allow_none=True)
    after = fields.Function(lambda e: e.details.get("after"), allow_none=True)
    details = fields.Dict(required=True)
    ip_address = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)


class CustomerDetailSchema(Schema):
    customer = fields.Nested(AdminCustomerSchema, required=True)
    machines = fields.List(fields.Nested(AdminInstanceSchema), required=True)
    subscriptions = fields.List(fields.Nested(AdminSubscriptionSchema), required=True)
    invoices = fields.List(fields.Nested(AdminInvoiceSchema), required=True)
    tickets = fields.List(fields.Nested(TicketSummarySchema), required=True)
    api_tokens = fields.List(fields.Nested(AdminTokenSchema), required=True)
    logins = fields.List(
        fields.Nested(AdminLoginSchema),
        required=True,
        metadata={"description": "Live sign-ins (browser sessions)."},
    )
    audit = fields.List(
        fields.Nested(AdminAuditEventSchema),
        required=True,
        metadata={"description": "The customer's own events and operators' on their account."},
    )


class RoleChangeSchema(ReasonSchema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


class SuspensionSchema(Schema):
    customer = fields.Nested(AdminCustomerSchema, required=True)
    jobs = fields.List(
        fields.Nested(JobSchema),
        required=True,
        metadata={"description": "The stop (suspend) or start (unsuspend) jobs started."},
    )


# -- machines and jobs -------------------------------------------------------------------
class MachineSearchArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in InstanceStatus]))
    provider = fields.String(validate=SHORT_TEXT)
    region = fields.String(validate=SHORT_TEXT)
    plan = fields.String(validate=SHORT_TEXT)
    owner = fields.Integer(validate=ID_RANGE, metadata={"description": "The owner's id."})
    idle_hours = fields.Integer(
        validate=validate.Range(min=1, max=24 * 365),
        metadata={"description": "Active, with no Remote Desktop session for this long."},
    )
    failed = fields.Boolean(
        load_default=False,
        metadata={"description": "Failed, or a job of it failed in the last 7 days."},
    )


AdminInstancePageSchema = _page("instances", AdminInstanceSchema)


class AdminJobSchema(JobSchema):
    user_id = fields.Integer(allow_none=True)
    from_status = fields.String(allow_none=True)
    step = fields.String(allow_none=True)
    deadline_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(required=True)
    handled = fields.Function(lambda j: j.context.get("handled"), allow_none=True)


class AdminJobListSchema(Schema):
    jobs = fields.List(fields.Nested(AdminJobSchema), required=True)


class AdminJobEnvelopeSchema(Schema):
    job = fields.Nested(AdminJobSchema, required=True)


class JobSearchArgsSchema(PageArgsSchema):
    state = fields.String(
        load_default="failed",
        validate=validate.OneOf(["failed", "stuck"]),
        metadata={"description": "failed: failed and not yet handled; stuck: stuck now."},
    )


AdminJobPageSchema = _page("jobs", AdminJobSchema)


# -- reconciliation ----------------------------------------------------------------------
class FindingArgsSchema(PageArgsSchema):
    open = fields.Boolean(load_default=True, metadata={"description": "Only open findings."})


class FindingSchema(Schema):
    id = fields.Integer(required=True)
    provider = fields.String(required=True)
    provider_id = fields.String(required=True)
    label = fields.String(required=True)
    instance_id = fields.Integer(required=True)
    reason = fields.String(required=True)
    guard = fields.String(required=True)
    detail = fields.String(required=True)
    first_seen_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    decision = fields.String(
        allow_none=True, validate=validate.OneOf([d.value for d in FindingDecision])
    )
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)


FindingPageSchema = _page("findings", FindingSchema)


# -- billing -----------------------------------------------------------------------------
class RefundSchema(ReasonSchema):
    amount_cents = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=100_000_000),
        metadata={"description": "What to give back; all that is left of the payment if absent."},
    )


class CancelSubscriptionSchema(ReasonSchema):
    when = fields.String(
        required=True,
        validate=validate.OneOf(["now", "period_end"]),
        metadata={
            "description": "now: the machine is terminated and billing ends at once; "
            "period_end: it runs until the paid period ends."
        },
    )


class DunningSubscriptionSchema(Schema):
    subscription = fields.Nested(AdminSubscriptionSchema, required=True)
    customer_id = fields.Integer(required=True)
    customer_email = fields.String(required=True)
    instance_status = fields.String(required=True)
    suspends_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the machine is (or was) suspended."}
    )
    suspended = fields.Boolean(required=True)


class DunningSchema(Schema):
    subscriptions = fields.List(fields.Nested(DunningSubscriptionSchema), required=True)
    invoices = fields.List(fields.Nested(AdminInvoiceSchema), required=True)


# -- catalogue ---------------------------------------------------------------------------
class AdminPlanSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    price_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    orderable = fields.Boolean(required=True)
    regions = fields.List(fields.String(), required=True)
    closed_regions = fields.List(fields.String(), required=True)
    stripe_price_id = fields.String(allow_none=True)
    price_changed_at = fields.DateTime(allow_none=True)


class CataloguePlanSchema(Schema):
    plan = fields.Nested(AdminPlanSchema, required=True)
    live_machines = fields.Integer(required=True)


class CatalogueSchema(Schema):
    plans = fields.List(fields.Nested(CataloguePlanSchema), required=True)
    note = fields.String(required=True)


class PlanUpdateSchema(ReasonSchema):
    orderable = fields.Boolean(metadata={"description": "false: the plan takes no new orders."})
    closed_regions = fields.List(
        fields.String(validate=SHORT_TEXT),
        validate=validate.Length(max=100),
        metadata={"description": "The regions where the plan takes no new orders."},
    )
    price_cents = fields.Integer(
        validate=validate.Range(min=50, max=10_000_000),
        metadata={"description": "A new monthly price for new orders only."},
    )

    @validates_schema
    def _something(self, data: dict[str, object], **_: object) -> None:
        if not set(data) - {"reason"}:
            raise ValidationError("Give orderable, closed_regions or price_cents.", "_schema")


class RegionUpdateSchema(ReasonSchema):
    region = fields.String(required=True, validate=SHORT_TEXT)
    open = fields.Boolean(required=True, metadata={"description": "false: no new orders there."})


class AdminPlanListSchema(Schema):
    plans = fields.List(fields.Nested(AdminPlanSchema), required=True)


# -- audit -------------------------------------------------------------------------------
class AuditArgsSchema(PageArgsSchema):
    actor = fields.Integer(validate=ID_RANGE, metadata={"description": "Who acted (user id)."})
    action = fields.String(
        validate=[validate.Length(min=1, max=64), SingleLine()],
        metadata={"description": "Exact, or a prefix ending in * (admin.*)."},
    )
    target_type = fields.String(validate=SHORT_TEXT)
    target_id = fields.String(validate=SHORT_TEXT)
    customer = fields.Integer(validate=ID_RANGE)
    since = fields.AwareDateTime(metadata={"description": "ISO 8601 with a time zone."})
    until = fields.AwareDateTime(metadata={"description": "ISO 8601 with a time zone."})


AuditPageSchema = _page("events", AdminAuditEventSchema)


# -- overview ----------------------------------------------------------------------------
class SeriesDaySchema(Schema):
    day = fields.Date(required=True)
    revenue_cents = fields.Integer(required=True)
    active_machines = fields.Integer(required=True)


class MrrSchema(Schema):
    currency = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    subscriptions = fields.Integer(required=True)


class OverviewSchema(Schema):
    generated_at = fields.DateTime(required=True)
    customers = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    machines = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        required=True,
        metadata={"description": "by_status, by_provider, by_region, by_plan."},
    )
    mrr = fields.List(fields.Nested(MrrSchema), required=True)
    last_24h = fields.Dict(required=True)
    queues = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "Tasks waiting per queue; null when the broker is down."},
    )
    health = fields.Dict(required=True)
    open_tickets = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    series = fields.List(fields.Nested(SeriesDaySchema), required=True)
