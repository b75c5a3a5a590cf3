"""Bodies of /api/account/ssh-keys."""

from marshmallow import Schema, fields, validate

from app.schemas.common import SingleLine

# Ids as the database holds them (a larger number names no row).
KEY_ID = fields.Integer(strict=True, validate=validate.Range(min=1, max=2_147_483_647))
SSH_KEY_IDS = fields.List(
    KEY_ID,
    load_default=None,
    validate=validate.Length(max=20),
    metadata={"description": "Ids of the account's SSH keys to install (Linux only)."},
)


class SshKeyCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), SingleLine()])
    public_key = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=16384), SingleLine()],
        metadata={"description": "An OpenSSH public key: ssh-ed25519, ecdsa-sha2-… or ssh-rsa."},
    )


class SshKeySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    public_key = fields.String(required=True)
    fingerprint = fields.String(required=True, metadata={"description": "SHA256:…"})
    created_at = fields.DateTime(required=True)


class SshKeyListSchema(Schema):
    ssh_keys = fields.List(fields.Nested(SshKeySchema), required=True)
