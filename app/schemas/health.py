from marshmallow import Schema, fields


class CheckSchema(Schema):
    status = fields.String(required=True, metadata={"description": "healthy or unhealthy"})
    latency_ms = fields.Float(required=True)
    critical = fields.Boolean(
        required=True, metadata={"description": "whether this check failing makes us unhealthy"}
    )
    cached = fields.Boolean(
        required=True, metadata={"description": "a result reused from the last few seconds"}
    )
    error = fields.String(metadata={"description": "why the check failed"})


class HealthSchema(Schema):
    status = fields.String(
        required=True,
        metadata={
            "description": "healthy; degraded (workers, broker, a provider or Stripe down: "
            "200); unhealthy (database or Redis down: 503)"
        },
    )
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(CheckSchema), required=True)
