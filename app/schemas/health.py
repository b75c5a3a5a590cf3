from marshmallow import Schema, fields


class CheckSchema(Schema):
    status = fields.String(required=True)
    latency_ms = fields.Float(required=True)
    error = fields.String()


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "healthy or unhealthy"})
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(CheckSchema), required=True)
