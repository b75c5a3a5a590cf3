"""Bodies of /api/instances/<id>/snapshots."""

from marshmallow import Schema, fields, validate

from app.schemas.common import SingleLine
from app.schemas.instances import JobSchema


class SnapshotSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "creating, available, restoring, deleting or failed."},
    )
    size_bytes = fields.Integer(
        allow_none=True, metadata={"description": "Null where the provider does not say."}
    )
    error = fields.String(allow_none=True, metadata={"description": "Why it was not taken."})
    created_at = fields.DateTime(required=True)


class SnapshotListSchema(Schema):
    snapshots = fields.List(fields.Nested(SnapshotSchema), required=True)
    available = fields.Boolean(
        required=True, metadata={"description": "Whether the machine's provider takes them."}
    )
    quota = fields.Integer(
        required=True, metadata={"description": "How many the machine's plan keeps at once."}
    )


class SnapshotCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=64), SingleLine()])


class SnapshotRestoreSchema(Schema):
    confirm = fields.String(
        required=True,
        validate=validate.Length(max=64),
        metadata={"description": "The machine's name, typed to confirm: its disk is overwritten."},
    )


class SnapshotJobSchema(Schema):
    job = fields.Nested(JobSchema, required=True)
    snapshot = fields.Nested(SnapshotSchema, required=True)
