"""Compression of JSON, pages and static assets (Flask-Compress: zstd, brotli, gzip, deflate).

Responses marked ``Cache-Control: no-store`` carry a secret shown once (a new API token, a
two-factor secret, machine credentials, the page holding the CSRF token) and are sent
uncompressed, so their length can never be used as an oracle on the secret (BREACH).
"""

from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress

compress = Compress()


def _compress(response: Response) -> Response:
    if "no-store" in (response.headers.get("Cache-Control") or ""):
        return response
    return compress.after_request(response)


def init_compression(app: Flask) -> None:
    compress.init_app(app)  # COMPRESS_REGISTER is off: _compress picks the responses
    app.after_request(_compress)
