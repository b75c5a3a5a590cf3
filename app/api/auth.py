"""Accounts, sessions and API tokens."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_login import current_user, login_required, login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from app.schemas.auth import (
    LoginSchema,
    ProfileUpdateSchema,
    SessionSchema,
    SignupSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenListSchema,
    UserSchema,
)
from app.services import accounts, tokens

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and sessions")


def _session_body(user: Any) -> dict[str, Any]:
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/signup", methods=["POST"])
@blp.arguments(SignupSchema)
@blp.response(201, SessionSchema)
def signup(body: dict[str, Any]) -> dict[str, Any]:
    """Create an account and sign in."""
    user = accounts.sign_up(body["email"], body["password"])
    login_user(user)
    return _session_body(user)


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Sign in with e-mail and password; sets the session cookie."""
    user = accounts.authenticate(body["email"], body["password"])
    login_user(user, remember=body["remember"])
    return _session_body(user)


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@login_required
def logout() -> None:
    """End the session."""
    logout_user()


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
        """Update the profile."""
        return accounts.update_profile(current_user, full_name=body["full_name"])


@blp.route("/tokens")
class Tokens(MethodView):
    decorators = [login_required]

    @blp.response(200, TokenListSchema)
    def get(self) -> dict[str, Any]:
        """Live API tokens (never their secret)."""
        return {"tokens": tokens.list_for(current_user)}

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a token; its secret is in this response only."""
        token, raw = tokens.create(current_user, body["name"])
        return {
            "id": token.id,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "token": raw,
        }


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@login_required
def revoke_token(token_id: int) -> None:
    """Revoke a token."""
    tokens.revoke(current_user, token_id)
