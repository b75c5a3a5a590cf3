"""HTTPS behind a reverse proxy: trust its X-Forwarded-* headers, redirect plain HTTP.

The proxy terminates TLS and tells us the scheme in X-Forwarded-Proto; ProxyFix (for
``PROXY_FIX_HOPS`` proxies) makes ``request.is_secure``, ``request.remote_addr`` and the
URLs we build reflect the client's request. With ``FORCE_HTTPS`` every plain-HTTP request
is redirected to HTTPS, except the probes a load balancer or Prometheus make from inside.
"""

from __future__ import annotations

from flask import Flask, current_app, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

# Called over plain HTTP from inside the network by load balancers and Prometheus.
INTERNAL_PROBES = frozenset({"/api/health", "/metrics"})


def _redirect_to_https() -> Response | None:
    if not current_app.config["FORCE_HTTPS"] or request.is_secure:
        return None
    if request.path in INTERNAL_PROBES:
        return None
    # 308 keeps the method and body of a POST; GETs get the cacheable 301.
    code = 301 if request.method in ("GET", "HEAD") else 308
    return redirect(request.url.replace("http://", "https://", 1), code=code)


def init_https(app: Flask) -> None:
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.before_request(_redirect_to_https)
