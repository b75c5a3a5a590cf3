"""Signed, expiring values for e-mailed links and sign-in challenges (itsdangerous).

Each purpose signs with its own salt, so a value signed for one purpose is refused by every
other. Signing only proves the value is ours and recent; single use is the caller's job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


class InvalidSignature(Exception):
    """The value was forged, altered, signed for another purpose, or is too old."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"nemordp.{purpose}")


def sign(value: Any, purpose: str) -> str:
    return _serializer(purpose).dumps(value)


def unsign(token: str, purpose: str, max_age: timedelta) -> tuple[Any, datetime]:
    """The signed value and when it was signed (SignatureExpired is a BadSignature)."""
    try:
        value, signed_at = _serializer(purpose).loads(
            token, max_age=int(max_age.total_seconds()), return_timestamp=True
        )
    except BadSignature:
        raise InvalidSignature() from None
    return value, signed_at
