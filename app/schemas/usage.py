"""The usage API: the seed's figures plus the daily traffic series."""

from marshmallow import Schema, fields, validate

from app.schemas.instances import UsageSchema


class UsageArgsSchema(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class UsageDaySchema(Schema):
    day = fields.Date(required=True)
    inbound_gb = fields.Float(required=True)
    outbound_gb = fields.Float(required=True)


class UsageWithSeriesSchema(UsageSchema):
    traffic_reported = fields.Boolean(
        required=True,
        metadata={"description": "False where the machine's provider reports no daily traffic"},
    )
    series = fields.List(fields.Nested(UsageDaySchema), required=True)
