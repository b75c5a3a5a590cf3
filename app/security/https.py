"""HTTPS behind a reverse proxy: trust its X-Forwarded-* headers, redirect plain HTTP.

The proxy terminates TLS and tells us the client's address and scheme in X-Forwarded-For
and -Proto. Those headers are applied (werkzeug's ProxyFix, with the count of proxies that
set each one: ``PROXY_FIX_FOR``, ``_PROTO``, ``_HOST``, ``_PORT``, ``_PREFIX``) only to
requests whose direct peer is in ``PROXY_TRUSTED_NETWORKS``; from anyone else they are
ignored, so no client chooses its own address, host or path prefix. With ``FORCE_HTTPS``
every plain-HTTP request is redirected to HTTPS, except the probes a load balancer or
Prometheus make from inside.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, current_app, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from app.security import networks as network_lists

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Called over plain HTTP from inside the network by load balancers and Prometheus.
INTERNAL_PROBES = frozenset({"/api/health", "/metrics"})
# ProxyFix's argument for each header, and the setting with its count of proxies.
FORWARDED_HEADERS = {
    "x_for": "PROXY_FIX_FOR",
    "x_proto": "PROXY_FIX_PROTO",
    "x_host": "PROXY_FIX_HOST",
    "x_port": "PROXY_FIX_PORT",
    "x_prefix": "PROXY_FIX_PREFIX",
}


class TrustedProxyFix:
    """ProxyFix for requests from the trusted proxies; every other request as it came."""

    def __init__(
        self, app: WSGIApplication, trusted: list[network_lists.Network], **counts: int
    ) -> None:
        self.app = app
        self.fixed = ProxyFix(app, **counts)
        self.trusted = trusted

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if network_lists.contains(self.trusted, environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def _proxy_settings(
    config: dict[str, object],
) -> tuple[list[network_lists.Network], dict[str, int]]:
    """The trusted networks and the count per header; ValueError naming a bad setting."""
    try:
        trusted = network_lists.parse(str(config["PROXY_TRUSTED_NETWORKS"]))
    except ValueError as exc:
        raise ValueError(f"PROXY_TRUSTED_NETWORKS: {exc}") from None
    counts = {argument: int(str(config[name])) for argument, name in FORWARDED_HEADERS.items()}
    for argument, count in counts.items():
        if count < 0:
            raise ValueError(f"{FORWARDED_HEADERS[argument]} must be 0 or more")
    if any(counts.values()) and not trusted:
        raise ValueError(
            "PROXY_TRUSTED_NETWORKS is empty: name the networks your proxy connects from, "
            "or forwarded headers would be taken from anyone"
        )
    return trusted, counts


def _redirect_to_https() -> Response | None:
    if not current_app.config["FORCE_HTTPS"] or request.is_secure:
        return None
    if request.path in INTERNAL_PROBES:
        return None
    # 308 keeps the method and body of a POST; GETs get the cacheable 301.
    code = 301 if request.method in ("GET", "HEAD") else 308
    return redirect(request.url.replace("http://", "https://", 1), code=code)


def init_https(app: Flask) -> None:
    trusted, counts = _proxy_settings(app.config)
    if any(counts.values()):
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, trusted, **counts)  # type: ignore[method-assign]
    app.before_request(_redirect_to_https)
