"""Bodies of /api/instances, /api/jobs and /api/plans."""

from marshmallow import Schema, fields, validate

from app.models import OsType
from app.schemas.common import SingleLine
from app.schemas.ssh_keys import SSH_KEY_IDS


class PlanSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    price_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    vcpu = fields.Integer(required=True)
    ram_mb = fields.Integer(required=True)
    disk_gb = fields.Integer(required=True)
    bandwidth_gb = fields.Integer(required=True)
    gpu = fields.String(allow_none=True)
    regions = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The regions taking new orders of the plan."},
    )
    default_region = fields.String(
        required=True, metadata={"description": "Where an order that names no region runs."}
    )


class OrderablePlanSchema(PlanSchema):
    """A plan row as the public catalogue caches it: its regions are those open to new orders
    (`PlanSchema` then serves the stored result as it is)."""

    regions = fields.List(fields.String(), attribute="open_regions", required=True)


class PlanListSchema(Schema):
    plans = fields.List(fields.Nested(PlanSchema), required=True)


class OrderSchema(Schema):
    plan = fields.String(required=True, validate=[validate.Length(min=1, max=32), SingleLine()])
    os_type = fields.String(required=True, validate=validate.OneOf([o.value for o in OsType]))
    region = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=32), SingleLine()],
        metadata={"description": "The plan's `default_region` when absent (the seed sends none)."},
    )
    ssh_key_ids = SSH_KEY_IDS


class ReinstallSchema(Schema):
    os = fields.String(
        required=True,
        validate=validate.OneOf([o.value for o in OsType]),
        metadata={"description": "The system to install: everything on the disk is erased."},
    )
    confirm = fields.String(
        required=True,
        validate=validate.Length(max=64),
        metadata={"description": "The machine's name, typed to confirm."},
    )
    ssh_key_ids = SSH_KEY_IDS


class JobSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    state = fields.String(required=True)
    instance_id = fields.Integer(allow_none=True)
    attempts = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class InstanceSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    status_reason = fields.String(allow_none=True)
    plan = fields.Function(lambda i: i.plan.code, required=True)
    plan_name = fields.Function(lambda i: i.plan.name, required=True)
    os_type = fields.String(required=True)
    region = fields.String(required=True)
    provider = fields.String(allow_none=True)
    ip_address = fields.String(allow_none=True)
    ipv6_address = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_accessed = fields.DateTime(allow_none=True)
    data_transfer_gb = fields.Float(required=True)
    # Where an unpaid order is paid for; null once paid.
    checkout_url = fields.String(allow_none=True)


class InstancePageSchema(Schema):
    instances = fields.List(fields.Nested(InstanceSchema), attribute="items", required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class OrderedSchema(Schema):
    instance = fields.Nested(InstanceSchema, required=True)
    checkout_url = fields.String(required=True)


class JobListSchema(Schema):
    jobs = fields.List(fields.Nested(JobSchema), required=True)


class JobEnvelopeSchema(Schema):
    job = fields.Nested(JobSchema, required=True)


class CredentialsSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True)


class UsageSchema(Schema):
    uptime_hours = fields.Float(required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_accessed = fields.DateTime(allow_none=True)
    data_transfer_gb = fields.Float(required=True)
