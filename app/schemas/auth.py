"""Request and response bodies of /api/auth."""

from marshmallow import Schema, fields, validate

from app.models import OsType

PASSWORD = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=256))


class SignupSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = PASSWORD


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
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


class SessionSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(
        metadata={"description": "Send as X-CSRF-Token on cookie-authenticated writes."}
    )


class ProfileUpdateSchema(Schema):
    full_name = fields.String(required=True, validate=validate.Length(max=100))


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


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
