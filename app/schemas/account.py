"""Request and response bodies of /api/account."""

from marshmallow import Schema, fields, validate

from app.schemas.auth import PASSWORD, TokenSchema, UserSchema
from app.schemas.common import EMAIL, SingleLine
from app.schemas.instances import InstanceSchema
from app.schemas.ssh_keys import SshKeySchema
from app.schemas.support import TicketSchema

# A password being checked, not chosen: any length up to the limit.
CURRENT_PASSWORD = fields.String(
    required=True, load_only=True, validate=validate.Length(min=1, max=256)
)
CODE = fields.String(
    required=True,
    load_only=True,
    validate=[validate.Length(min=6, max=32), SingleLine()],
    metadata={"description": "A 6-digit code from the authenticator app, or a recovery code."},
)
LINK_TOKEN = fields.String(
    required=True,
    load_only=True,
    validate=[validate.Length(min=1, max=512), SingleLine()],
    metadata={"description": "The token from the e-mailed link."},
)


class PasswordChangeSchema(Schema):
    current_password = CURRENT_PASSWORD
    new_password = PASSWORD


class PasswordResetRequestSchema(Schema):
    email = EMAIL


class PasswordResetSchema(Schema):
    token = LINK_TOKEN
    password = PASSWORD


class EmailChangeSchema(Schema):
    new_email = EMAIL
    password = CURRENT_PASSWORD


class LinkTokenSchema(Schema):
    token = LINK_TOKEN


class PasswordConfirmSchema(Schema):
    password = CURRENT_PASSWORD


class CodeSchema(Schema):
    code = CODE


class TwoFactorDisableSchema(Schema):
    password = CURRENT_PASSWORD
    code = CODE


class TwoFactorStatusSchema(Schema):
    enabled = fields.Boolean(required=True)
    recovery_codes_left = fields.Integer(required=True)


class TwoFactorSetupSchema(Schema):
    secret = fields.String(required=True, metadata={"description": "Base32, for entering by hand."})
    otpauth_uri = fields.String(required=True)
    qr_svg = fields.String(
        required=True, metadata={"description": "The otpauth URI as a QR code, an SVG data URI."}
    )


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Shown this once; each works one time."},
    )


class ExportedTokenSchema(TokenSchema):
    revoked_at = fields.DateTime(allow_none=True)


class AuditEventSchema(Schema):
    action = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    ip_address = fields.String(allow_none=True)
    details = fields.Dict(required=True)


class ExportSchema(Schema):
    exported_at = fields.DateTime(required=True)
    account = fields.Nested(UserSchema, required=True)
    instances = fields.List(fields.Nested(InstanceSchema), required=True)
    api_tokens = fields.List(fields.Nested(ExportedTokenSchema), required=True)
    ssh_keys = fields.List(fields.Nested(SshKeySchema), required=True)
    support_tickets = fields.List(fields.Nested(TicketSchema), required=True)
    audit_events = fields.List(fields.Nested(AuditEventSchema), required=True)
