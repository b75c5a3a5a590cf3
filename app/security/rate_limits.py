"""Rate limits: Flask-Limiter counting in Redis, so every gunicorn worker shares the counts.

Every route has the global limit per client (the signed-in account, else the address:
``RATELIMIT_GLOBAL``), counted per route group (a blueprint: `/api/instances/...`,
`/api/billing/...`, the dashboard's pages, ...), except the operational routes a load
balancer, Prometheus or Stripe call. Routes that check a password or a code carry
`auth_limits` instead: a limit per address and a stricter one per account, so neither many
addresses against one account nor one address against many accounts gets far.

Each app counts in the storage its own config names, and limits are read from its config on
each request, so every app applies its own. While that storage cannot be reached, reads are
served unlimited (the error is logged) and `auth_limits` routes answer 503: no one guesses
passwords uncounted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, has_app_context, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limit, Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_qualified_name
from flask_login import current_user
from limits.storage import Storage
from limits.strategies import RateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from app import redis_client
from app.errors import error_body
from app.security import signing
from app.services.two_factor import CHALLENGE_LIFETIME, CHALLENGE_PURPOSE

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# Never limited: health probes, metrics scrapes and Stripe's (signed) webhook deliveries.
UNLIMITED_PATHS = frozenset({"/api/health", "/metrics", "/api/billing/webhook"})

# While the limits' storage is down, an `auth_limits` route asks to be tried again after this.
UNAVAILABLE_RETRY_AFTER = 10


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For once ProxyFix trusts it)."""
    return request.remote_addr or "unknown"


def client_key() -> str:
    """Who the global limit counts: the signed-in account, else the address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{client_address()}"


def route_group(endpoint: str) -> str:
    """The blueprint a route belongs to (its endpoint's prefix), which shares one count."""
    return request.blueprint or endpoint


def account_key() -> str:
    """The account a request is about: the one its body names (the e-mail submitted, or the
    account a two-factor challenge names), else the signed-in user; "" when none (the
    per-account limit is skipped). A signed-in caller naming another account is counted
    against that account, never against its own."""
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        email = body.get("email")
        if isinstance(email, str) and email.strip():
            # Hashed: the limiter's Redis keys never hold an address.
            return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        challenge = body.get("challenge")
        if isinstance(challenge, str):
            return _challenge_account(challenge)
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
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


class LimitsUnavailable(Exception):
    """The limits' storage cannot be reached on a route that must not go uncounted."""


class AppLimiter(Limiter):
    """One extension shared by every app, each app counting in the storage of its own config
    (Flask-Limiter alone keeps the last app's); storage errors fail open, or closed for the
    routes in `_fail_closed`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fail_closed: set[str] = set()
        self._shared_storage_options = dict(self._storage_options)

    def init_app(self, app: Flask) -> None:
        # The storage as the one Redis factory opens it (Sentinel, TLS), with this app's
        # options only: Flask-Limiter alone adds each app's options to every later app's.
        uri, options = redis_client.limits_storage(app.config["RATELIMIT_STORAGE_URI"], app.config)
        app.config["RATELIMIT_STORAGE_URI"] = uri
        self._storage_options = {**self._shared_storage_options, **options}
        super().init_app(app)
        app.extensions["rate_limit_storage"] = (self._storage, self._limiter)

    def _own(self) -> tuple[Storage, RateLimiter] | None:
        if not has_app_context():
            return None
        return cast(
            "tuple[Storage, RateLimiter] | None",
            current_app.extensions.get("rate_limit_storage"),
        )

    @property
    def storage(self) -> Storage:
        own = self._own()
        return own[0] if own else super().storage

    @property
    def limiter(self) -> RateLimiter:
        own = self._own()
        return own[1] if own else super().limiter

    @property
    def current_limit(self) -> RequestLimit | None:
        """The limit for this response's headers, its window read now; None if the storage
        went away since the request was counted (the response goes out without them)."""
        limit = self.context.view_rate_limit
        if limit is None:
            return None
        try:
            limit.window  # noqa: B018 (read once, kept by the RequestLimit)
        except self.storage.base_exceptions:
            logger.error("rate limit headers left out: storage unreachable", exc_info=True)
            return None
        return limit

    def fail_closed(self, view: Callable[..., Any]) -> None:
        self._fail_closed.add(get_qualified_name(view))

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        try:
            super()._check_request_limit(callable_name, in_middleware)
        except self.storage.base_exceptions as exc:
            if callable_name in self._fail_closed:
                logger.error("request refused: rate limit storage unreachable (%r)", exc)
                raise LimitsUnavailable from exc
            logger.error("request served unlimited: rate limit storage unreachable (%r)", exc)


limiter = AppLimiter(
    client_key,
    default_limits=[
        Limit(
            _global_limit,
            key_function=client_key,
            scope=route_group,
            shared=True,
            exempt_when=_unlimited,
        ),
    ],
    headers_enabled=True,
    # One try per count: redis-py's own retries would hold a request for seconds while
    # Redis is down (RATELIMIT_STORAGE_OPTIONS bounds each try).
    storage_options={"retry": Retry(NoBackoff(), 0)},
    swallow_errors=False,  # storage errors are handled above, per route
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
    a password or a code (in place of the global limit); refused while they cannot be
    counted."""
    limiter.fail_closed(view)
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


def limits_unavailable(_: LimitsUnavailable) -> ResponseReturnValue:
    """503 in the error contract, with Retry-After."""
    message = "This is unavailable for a moment; try again shortly."
    body = error_body(503, "service_unavailable", message)
    return jsonify(body), 503, {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)}


def init_rate_limits(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    app.register_error_handler(LimitsUnavailable, limits_unavailable)
