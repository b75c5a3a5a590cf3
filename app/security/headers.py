"""Security headers on every response, API and dashboard alike.

The dashboard has no inline script or style and loads everything from /static, so the
Content-Security-Policy allows only our own origin. A response may set its own value of
any of these headers first; it is kept. HSTS is sent only over HTTPS with ``FORCE_HTTPS``
on (a browser must not be told to insist on HTTPS by a deployment that cannot serve it).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["FORCE_HTTPS"] and request.is_secure:
        max_age = current_app.config["HSTS_MAX_AGE"]
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={max_age}; includeSubDomains"
        )
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
