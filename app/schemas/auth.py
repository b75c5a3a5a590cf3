"""Request and response bodies of /api/auth."""

from typing import Any

from marshmallow import Schema, fields, validate

from app.models import OsType
from app.schemas.common import EMAIL, SingleLine

PASSWORD = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))


class SignupSchema(Schema):
    email = EMAIL
    password = PASSWORD


class LoginSchema(Schema):
    email = fields.String(
        required=True, validate=[validate.Length(min=1, max=254), SingleLine()]
    )  # any account's address as it was once accepted: checked against the accounts only
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    remember = fields.Boolean(load_default=False)


class PreferencesSchema(Schema):
    email_notifications = fields.Boolean(required=True)
    auto_shutdown = fields.Boolean(required=True)
    idle_minutes = fields.Integer(required=True, validate=validate.Range(min=30, max=1440))
    default_os = fields.String(
        required=True, validate=validate.OneOf([os_type.value for os_type in OsType])
    )


class UserSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    preferences = fields.Nested(PreferencesSchema, required=True)
    two_factor_enabled = fields.Boolean(required=True)


class SessionSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(
        metadata={"description": "Send as X-CSRF-Token on cookie-authenticated writes."}
    )


class LoginResultSchema(SessionSchema):
    user = fields.Nested(UserSchema, metadata={"description": "Absent when a code is needed."})
    two_factor_required = fields.Boolean(dump_default=False, required=True)
    challenge = fields.String(
        metadata={"description": "With two_factor_required: send it to /login/2fa with a code."}
    )


class TwoFactorLoginSchema(Schema):
    challenge = fields.String(
        required=True, validate=[validate.Length(min=1, max=512), SingleLine()]
    )
    code = fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=6, max=32), SingleLine()],
        metadata={"description": "A 6-digit code from the authenticator app, or a recovery code."},
    )


class PreferencesUpdateSchema(PreferencesSchema):
    """Any of the preferences."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class ProfileUpdateSchema(Schema):
    """Any of these; ``{}`` (what the seed's "Save Changes" sends) changes nothing."""

    full_name = fields.String(validate=[validate.Length(max=100), SingleLine()])
    preferences = fields.Nested(PreferencesUpdateSchema)


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), SingleLine()])


class TokenSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    token = fields.String(
        required=True, metadata={"description": "Shown once; only its digest is kept."}
    )


class TokenListSchema(Schema):
    tokens = fields.List(fields.Nested(TokenSchema), required=True)
