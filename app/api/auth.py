"""Accounts, sessions and API tokens."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from app.api.account import NO_STORE
from app.auth import sign_in, sign_out
from app.schemas.auth import (
    LoginResultSchema,
    LoginSchema,
    ProfileUpdateSchema,
    SessionSchema,
    SignupSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenListSchema,
    TwoFactorLoginSchema,
    UserSchema,
)
from app.security.rate_limits import auth_limits
from app.services import accounts, tokens, two_factor

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and sessions")


def _session_body(user: Any) -> dict[str, Any]:
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/signup", methods=["POST"])
@blp.arguments(SignupSchema)
@blp.response(201, SessionSchema)
@auth_limits
def signup(body: dict[str, Any]) -> dict[str, Any]:
    """Create an account and sign in."""
    user = accounts.sign_up(body["email"], body["password"])
    sign_in(user, remember=False)
    return _session_body(user)


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@auth_limits
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Sign in with e-mail and password; with two-factor on, answers with a challenge."""
    user = accounts.authenticate(body["email"], body["password"])
    if user.two_factor_enabled:
        challenge = two_factor.challenge_for(user, remember=body["remember"])
        return {"two_factor_required": True, "challenge": challenge}
    sign_in(user, remember=body["remember"])
    return _session_body(user)


@blp.route("/login/2fa", methods=["POST"])
@blp.arguments(TwoFactorLoginSchema)
@blp.response(200, LoginResultSchema)
@auth_limits
def login_second_factor(body: dict[str, Any]) -> dict[str, Any]:
    """Finish signing in with the challenge and an authenticator or recovery code."""
    user, remember = two_factor.complete_login(body["challenge"], body["code"])
    sign_in(user, remember=remember)
    return _session_body(user)


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@login_required
def logout() -> None:
    """End the session, on the server too: its cookies and remember-me cookie stop working."""
    sign_out()


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@login_required
def me() -> Any:
    """The signed-in account with its preferences."""
    return current_user


@blp.route("/profile")
class Profile(MethodView):
    decorators = [login_required]

    @blp.response(200, UserSchema)
    def get(self) -> Any:
        """The profile."""
        return current_user

    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, UserSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Update the name and any preferences (the address changes through /api/account)."""
        return accounts.update_profile(current_user, **body)


@blp.route("/tokens")
class Tokens(MethodView):
    decorators = [login_required]

    @blp.response(200, TokenListSchema)
    def get(self) -> dict[str, Any]:
        """Live API tokens (never their secret)."""
        return {"tokens": tokens.list_for(current_user)}

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create a token; its secret is in this response only (never cached)."""
        token, raw = tokens.create(current_user, body["name"])
        created = {
            "id": token.id,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "token": raw,
        }
        return created, 201, NO_STORE


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@login_required
def revoke_token(token_id: int) -> None:
    """Revoke a token."""
    tokens.revoke(current_user, token_id)
