"""Bodies of the in-guest agent's heartbeat."""

from marshmallow import Schema, fields, validate

from app.ids import ID_RANGE
from app.schemas.common import SingleLine


class HeartbeatSchema(Schema):
    instance_id = fields.Integer(required=True, validate=ID_RANGE)
    sessions = fields.Integer(required=True, validate=validate.Range(min=0, max=10000))
    agent_version = fields.String(
        load_default=None, validate=[validate.Length(max=32), SingleLine()]
    )


class HeartbeatRecordedSchema(Schema):
    instance_id = fields.Integer(attribute="id", required=True)
    last_heartbeat_at = fields.DateTime(required=True)
    last_accessed = fields.DateTime(allow_none=True)
