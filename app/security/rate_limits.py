"""Rate limits: Flask-Limiter counting in Redis, so every gunicorn worker shares the counts.

Every route has the global limit per client address (``RATELIMIT_GLOBAL``), except the
operational ones a load balancer, Prometheus or Stripe call. Routes that check a password
or a code carry `auth_limits` instead: a limit per address and a stricter one per account,
so neither many addresses against one account nor one address against many accounts gets
far. Limits are read from the app's config on each request, so every app applies its own.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user

from app.errors import error_body
from app.security import signing
from app.services.two_factor import CHALLENGE_LIFETIME, CHALLENGE_PURPOSE

F = TypeVar("F", bound=Callable[..., Any])

# Never limited: health probes, metrics scrapes and Stripe's (signed) webhook deliveries.
UNLIMITED_PATHS = frozenset({"/api/health", "/metrics", "/api/billing/webhook"})


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For once ProxyFix trusts it)."""
    return request.remote_addr or "unknown"


def account_key() -> str:
    """Whose account a request is about: the signed-in user, the e-mail submitted, or the
    account a two-factor challenge names; "" when none (the per-account limit is skipped)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return ""
    email = body.get("email")
    if isinstance(email, str) and email.strip():
        # Hashed: the limiter's Redis keys never hold an address.
        return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    challenge = body.get("challenge")
    if isinstance(challenge, str):
        return _challenge_account(challenge)
    return ""


def _challenge_account(challenge: str) -> str:
    try:
        payload, _ = signing.unsign(challenge, CHALLENGE_PURPOSE, CHALLENGE_LIFETIME)
    except signing.InvalidSignature:
        return "challenge:invalid"  # refused by the route anyway; counted together
    return f"user:{payload['user']}" if isinstance(payload, dict) else "challenge:invalid"


def _global_limit() -> str:
    return str(current_app.config["RATELIMIT_GLOBAL"])


def _auth_per_address() -> str:
    return str(current_app.config["RATELIMIT_AUTH_PER_ADDRESS"])


def _auth_per_account() -> str:
    return str(current_app.config["RATELIMIT_AUTH_PER_ACCOUNT"])


def _unlimited() -> bool:
    return request.path in UNLIMITED_PATHS


limiter = Limiter(
    client_address,
    default_limits=[_global_limit],
    default_limits_exempt_when=_unlimited,
)

_per_address = limiter.shared_limit(_auth_per_address, scope="auth", key_func=client_address)
_per_account = limiter.shared_limit(
    _auth_per_account,
    scope="auth-account",
    key_func=account_key,
    exempt_when=lambda: not account_key(),
)


def auth_limits(view: F) -> F:
    """The stricter limits, per address and per account, shared by every route that checks
    a password or a code (in place of the global limit)."""
    return cast(F, _per_address(_per_account(view)))


def too_many_requests(error: RateLimitExceeded) -> ResponseReturnValue:
    """429 in the error contract, with Retry-After: the seconds until a request is counted
    out of the window that was full."""
    breached = limiter.current_limit
    frees_at = breached.window.reset_time if breached else time.time() + 60
    retry_after = max(1, math.ceil(frees_at - time.time()))
    message = f"Too many requests ({error.description}); try again in {retry_after} seconds."
    body = error_body(429, "rate_limited", message)
    return jsonify(body), 429, {"Retry-After": str(retry_after)}


def init_rate_limits(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
