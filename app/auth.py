"""Who is calling: session cookies (dashboard) or bearer tokens (programs), and CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, Response, g, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.errors import Forbidden, Unauthorized
from app.extensions import csrf, db, login_manager
from app.models import User
from app.services import tokens

F = TypeVar("F", bound=Callable[..., Any])

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Session ids are ``<user id>:<epoch>``; a password change bumps the epoch."""
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != int(epoch):
        return None
    return user


@login_manager.request_loader
def load_user_from_bearer(req: Request) -> User | None:
    scheme, _, raw = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw:
        return None
    g.auth_via_bearer = True
    return tokens.user_for(raw.strip())


@login_manager.unauthorized_handler
def unauthorized() -> None:
    raise Unauthorized()


def require_staff(view: F) -> F:
    """Allow only staff and admins (after authentication)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise Unauthorized()
        if not current_user.is_staff:
            raise Forbidden()
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _check_csrf() -> None:
    """Cookie-authenticated writes must carry the session's CSRF token in X-CSRF-Token.

    Bearer requests carry no ambient credentials, so they need none. Any other
    Authorization header (a proxy's Basic credentials, which a browser adds by itself to
    every request, cross-site ones included) exempts nothing.
    """
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if request.method not in UNSAFE_METHODS or scheme.lower() == "bearer":
        return
    if "_user_id" not in session:
        return
    try:
        csrf.protect()
    except CSRFError:
        raise Forbidden("Missing or invalid CSRF token; send X-CSRF-Token.") from None


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    valid = 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum()
    g.request_id = incoming if valid else secrets.token_hex(16)


def init_auth(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_check_csrf)

    @app.after_request
    def add_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response
