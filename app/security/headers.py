"""Security headers on every response, API and dashboard alike.

The dashboard has no inline script or style and loads everything from /static, so the
Content-Security-Policy allows only our own origin. A response may set its own value of
any of these headers first; it is kept. HSTS is sent only over HTTPS with ``FORCE_HTTPS``
on (a browser must not be told to insist on HTTPS by a deployment that cannot serve it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

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


def _console_origin(console_url: str) -> str | None:
    """The console gateway's origin when it is not this site's (an absolute ws:// or wss://
    ``CONSOLE_URL``): the browser may open a WebSocket to it, and to nothing else."""
    parts = urlsplit(console_url)
    if parts.scheme in ("ws", "wss") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def add_security_headers(response: Response) -> Response:
    console_origin = _console_origin(current_app.config["CONSOLE_URL"])
    if console_origin:
        response.headers.setdefault(
            "Content-Security-Policy",
            f"{CONTENT_SECURITY_POLICY}; connect-src 'self' {console_origin}",
        )
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
