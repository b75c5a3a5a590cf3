"""Who is calling: session cookies (dashboard) or bearer tokens (programs), and CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, Response, current_app, g, request, session
from flask_login import current_user, login_user, logout_user
from flask_login.config import COOKIE_NAME
from flask_wtf.csrf import CSRFError

from app.errors import Forbidden, Unauthorized
from app.extensions import csrf, login_manager
from app.models import Role, User
from app.services import logins, tokens

F = TypeVar("F", bound=Callable[..., Any])

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@login_manager.user_loader
def load_user(secret: str) -> User | None:
    """The session and remember-me cookies carry the secret of a server-side login.

    A request with a Bearer header is the token's alone, whatever cookies it also carries.
    """
    if _bearer_token() is not None:
        return _bearer_user()
    login = logins.find(secret)
    if login is None:
        return None
    g.login = login
    return login.user


@login_manager.request_loader
def load_user_from_bearer(req: Request) -> User | None:
    return _bearer_user()


def _bearer_token() -> str | None:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else None


def _bearer_user() -> User | None:
    """The owner of the request's API token, if it authenticates (looked up once)."""
    if "bearer_user" not in g:
        raw = _bearer_token()
        g.auth_via_bearer = raw is not None
        g.bearer_user = tokens.user_for(raw) if raw else None
    user: User | None = g.bearer_user
    return user


def sign_in(user: User, *, remember: bool) -> None:
    """Sign this browser in to an existing account, with a new CSRF token: one learnt
    before (planted with a session cookie, say) must not carry over."""
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    session.pop(field, None)
    g.pop(field, None)
    open_login(user, remember=remember)


def renew_sign_in(user: User) -> None:
    """After a password change, which ended every login: this browser carries on under a
    new one, remembered as the old one was; the page keeps its CSRF token."""
    open_login(user, remember=g.login.remember)


def open_login(user: User, *, remember: bool) -> None:
    """Start a server-side login for this browser."""
    secret = logins.start(user, remember=remember)
    login_user(user, remember=remember)
    # flask-login stored the bare user id, which would sign into a remember-me cookie that
    # no logout could revoke; the session and that cookie carry the login's secret instead.
    session["_user_id"] = secret


def sign_out() -> None:
    """End this browser's login on the server, and its session and remember-me cookies."""
    secret = session.get("_user_id")
    if isinstance(secret, str):
        logins.end(secret)
    logout_user()


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


def require_admin(view: F) -> F:
    """Allow only admins (after authentication): money, destruction and roles."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise Unauthorized()
        if current_user.role != Role.ADMIN:
            raise Forbidden("Only an admin may do that.")
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _check_csrf() -> None:
    """Writes carrying a session or remember-me cookie must carry the session's CSRF token
    in X-CSRF-Token; a remember-me cookie alone has no session, so no token, and is refused.

    Only a Bearer token that authenticates exempts a request (it is then the token's alone,
    see `load_user`). A Bearer header naming no live token, or any other Authorization
    header (a proxy's Basic credentials, which a browser adds by itself to every request,
    cross-site ones included), exempts nothing.
    """
    if request.method not in UNSAFE_METHODS or _bearer_user() is not None:
        return
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    if "_user_id" not in session and remember_cookie not in request.cookies:
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
