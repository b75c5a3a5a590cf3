"""Request and response bodies of /api/support.

Messages are plain text: stored as written (markup included) and never rendered as HTML.
Control characters are refused: a subject is one line (it becomes an e-mail subject: no line
or paragraph separator either), a message may hold line breaks and tabs, and neither may hold
NUL or any other control code.
"""

import unicodedata

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.models import TicketPriority, TicketStatus
from app.schemas.common import SingleLine
from app.schemas.instances import InstanceSchema, PageArgsSchema

SUBJECT_MAX = 200
MESSAGE_MAX = 10_000

PRIORITIES = [priority.value for priority in TicketPriority]
STATUSES = [status.value for status in TicketStatus]


class PlainText(validate.Validator):
    """Not blank, and no control characters but the whitespace allowed."""

    def __init__(self, allowed: str = "") -> None:
        self.allowed = frozenset(allowed)

    def __call__(self, value: str) -> str:
        if not value.strip():
            raise ValidationError("Must not be blank.")
        if any(unicodedata.category(c) == "Cc" and c not in self.allowed for c in value):
            raise ValidationError("Must not contain control characters.")
        return value


SUBJECT = fields.String(
    required=True, validate=[validate.Length(min=1, max=SUBJECT_MAX), PlainText(), SingleLine()]
)
MESSAGE = fields.String(
    required=True,
    validate=[validate.Length(min=1, max=MESSAGE_MAX), PlainText("\n\r\t")],
    metadata={"description": "Plain text; markup is kept as typed and never rendered."},
)


class FaqEntrySchema(Schema):
    category = fields.String(required=True)
    question = fields.String(required=True)
    answer = fields.String(required=True)


class FaqSchema(Schema):
    faqs = fields.List(fields.Nested(FaqEntrySchema), required=True)


class TicketCreateSchema(Schema):
    subject = SUBJECT
    priority = fields.String(load_default="medium", validate=validate.OneOf(PRIORITIES))
    message = MESSAGE


class ReplySchema(Schema):
    message = MESSAGE


class StaffReplySchema(ReplySchema):
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "The ticket's status after the reply (default: waiting)."},
    )


class StaffTicketUpdateSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))

    @validates_schema
    def _not_empty(self, data: dict[str, str], **_: object) -> None:
        if not data:
            raise ValidationError("Give a status or a priority.")


class TicketListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))


class StaffTicketListArgsSchema(TicketListArgsSchema):
    priority = fields.String(validate=validate.OneOf(PRIORITIES))


class TicketMessageSchema(Schema):
    id = fields.Integer(required=True)
    author = fields.Function(lambda m: "staff" if m.from_staff else "customer", required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class TicketSummarySchema(Schema):
    id = fields.Integer(required=True)
    subject = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)


class TicketSchema(TicketSummarySchema):
    messages = fields.List(fields.Nested(TicketMessageSchema), required=True)


class TicketPageSchema(Schema):
    tickets = fields.List(fields.Nested(TicketSummarySchema), attribute="items", required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class CustomerSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(required=True)


class StaffTicketMessageSchema(TicketMessageSchema):
    author_id = fields.Integer(required=True)


class StaffTicketSummarySchema(TicketSummarySchema):
    customer = fields.Nested(CustomerSchema, attribute="user", required=True)


class StaffTicketSchema(StaffTicketSummarySchema):
    messages = fields.List(fields.Nested(StaffTicketMessageSchema), required=True)


class StaffTicketViewSchema(Schema):
    ticket = fields.Nested(StaffTicketSchema, required=True)
    customer_machines = fields.List(
        fields.Nested(InstanceSchema),
        required=True,
        metadata={"description": "For context; machine credentials are never shown to staff."},
    )


class StaffTicketPageSchema(TicketPageSchema):
    tickets = fields.List(fields.Nested(StaffTicketSummarySchema), attribute="items", required=True)
