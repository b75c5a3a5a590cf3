"""Account settings: preferences, password, address, two-factor sign-in, export, deletion."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_login import current_user, login_required, logout_user
from flask_smorest import Blueprint

from app.auth import renew_sign_in
from app.schemas.account import (
    CodeSchema,
    EmailChangeSchema,
    ExportSchema,
    LinkTokenSchema,
    PasswordChangeSchema,
    PasswordConfirmSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    RecoveryCodesSchema,
    TwoFactorDisableSchema,
    TwoFactorSetupSchema,
    TwoFactorStatusSchema,
)
from app.schemas.auth import PreferencesSchema
from app.schemas.common import MessageSchema
from app.schemas.ssh_keys import SshKeyCreateSchema, SshKeyListSchema, SshKeySchema
from app.security.rate_limits import auth_limits
from app.services import account_deletion, account_settings, ssh_keys, two_factor

blp = Blueprint(
    "account", __name__, url_prefix="/api/account", description="Account settings and security"
)

# Secrets shown once must not be kept by a browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store"}


@blp.route("/preferences")
class Preferences(MethodView):
    decorators = [login_required]

    @blp.response(200, PreferencesSchema)
    def get(self) -> Any:
        """The preferences."""
        return current_user.preferences

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Replace the preferences."""
        return account_settings.update_preferences(current_user, body).preferences


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@login_required
@auth_limits
def change_password(body: dict[str, str]) -> None:
    """Change the password; every other session and every earlier API token stop working."""
    user = current_user._get_current_object()  # the User itself: login_user keeps it in g
    account_settings.change_password(user, body["current_password"], body["new_password"])
    if not g.get("auth_via_bearer"):
        renew_sign_in(user)  # this browser carries on under a new login


@blp.route("/password/reset", methods=["POST"])
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202, MessageSchema)
@auth_limits
def request_password_reset(body: dict[str, str]) -> dict[str, str]:
    """E-mail a reset link; the answer is the same whether or not the address has an account."""
    account_settings.request_password_reset(body["email"])
    return {"message": "If this address has an account, a reset link is on its way."}


@blp.route("/password/reset/confirm", methods=["POST"])
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@auth_limits
def reset_password(body: dict[str, str]) -> None:
    """Set a new password with the token of a reset link (once, within the hour)."""
    account_settings.reset_password(body["token"], body["password"])


@blp.route("/email", methods=["POST"])
@blp.arguments(EmailChangeSchema)
@blp.response(202, MessageSchema)
@login_required
@auth_limits
def request_email_change(body: dict[str, str]) -> dict[str, str]:
    """Send a confirmation link to the new address; nothing changes until it is followed."""
    account_settings.request_email_change(current_user, body["new_email"], body["password"])
    return {"message": "Follow the link we sent to the new address to confirm it."}


@blp.route("/email/confirm", methods=["POST"])
@blp.arguments(LinkTokenSchema)
@blp.response(200, MessageSchema)
def confirm_email_change(body: dict[str, str]) -> dict[str, str]:
    """Confirm a new address with the token of the link sent to it."""
    account_settings.confirm_email_change(body["token"])
    return {"message": "Your e-mail address is changed."}


@blp.route("/2fa", methods=["GET"])
@blp.response(200, TwoFactorStatusSchema)
@login_required
def two_factor_status() -> dict[str, Any]:
    """Whether two-factor sign-in is on, and how many recovery codes are left."""
    return two_factor.status(current_user)


@blp.route("/2fa/setup", methods=["POST"])
@blp.arguments(PasswordConfirmSchema)
@blp.response(200, TwoFactorSetupSchema)
@login_required
@auth_limits
def begin_two_factor(body: dict[str, str]) -> tuple[dict[str, str], int, dict[str, str]]:
    """A new secret as an otpauth URI and QR code, in force once confirmed with a code."""
    return two_factor.begin(current_user, body["password"]), 200, NO_STORE


@blp.route("/2fa/confirm", methods=["POST"])
@blp.arguments(CodeSchema)
@blp.response(200, RecoveryCodesSchema)
@login_required
@auth_limits
def confirm_two_factor(body: dict[str, str]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Turn two-factor sign-in on with a first code; the recovery codes are shown this once."""
    return {"recovery_codes": two_factor.confirm(current_user, body["code"])}, 200, NO_STORE


@blp.route("/2fa/disable", methods=["POST"])
@blp.arguments(TwoFactorDisableSchema)
@blp.response(204)
@login_required
@auth_limits
def disable_two_factor(body: dict[str, str]) -> None:
    """Turn two-factor sign-in off (password and a code)."""
    two_factor.disable(current_user, body["password"], body["code"])


@blp.route("/2fa/recovery-codes", methods=["POST"])
@blp.arguments(CodeSchema)
@blp.response(200, RecoveryCodesSchema)
@login_required
@auth_limits
def regenerate_recovery_codes(body: dict[str, str]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """New recovery codes, shown this once; the old ones stop working."""
    codes = two_factor.regenerate_recovery_codes(current_user, body["code"])
    return {"recovery_codes": codes}, 200, NO_STORE


@blp.route("/export", methods=["GET"])
@blp.response(200, ExportSchema)
@login_required
def export() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Everything we hold about the account, as a JSON download (never cached)."""
    disposition = f'attachment; filename="nemordp-account-{current_user.id}.json"'
    headers = {"Content-Disposition": disposition, **NO_STORE}
    return account_settings.export(current_user), 200, headers


@blp.route("/ssh-keys")
class SshKeys(MethodView):
    decorators = [login_required]

    @blp.response(200, SshKeyListSchema)
    def get(self) -> dict[str, Any]:
        """The account's SSH public keys, oldest first."""
        return {"ssh_keys": ssh_keys.list_for(current_user)}

    @blp.arguments(SshKeyCreateSchema)
    @blp.response(201, SshKeySchema)
    def post(self, body: dict[str, str]) -> Any:
        """Add an SSH public key (Ed25519, ECDSA, or RSA of 2048 bits or more)."""
        return ssh_keys.add(current_user, body["name"], body["public_key"])


@blp.route("/ssh-keys/<int:key_id>", methods=["DELETE"])
@blp.response(204)
@login_required
def delete_ssh_key(key_id: int) -> None:
    """Remove an SSH key from the account (machines that have it keep it)."""
    ssh_keys.remove(current_user, key_id)


@blp.route("/delete", methods=["POST"])
@blp.arguments(PasswordConfirmSchema)
@blp.response(202, MessageSchema)
@login_required
@auth_limits
def delete_account(body: dict[str, str]) -> dict[str, str]:
    """Delete the account: signed out at once; machines terminated, then personal data erased."""
    account_deletion.request(current_user, body["password"])
    logout_user()
    return {"message": "Your account is being deleted; your machines are being terminated."}
