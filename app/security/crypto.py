"""Encryption at rest for machine credentials: MultiFernet over the configured keys.

The first key in ``ENCRYPTION_KEYS`` encrypts; every key decrypts, so keys can be rotated
by putting a new one first and re-encrypting (``flask security rotate-keys``).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


def _cipher() -> MultiFernet:
    keys = [k.strip() for k in current_app.config["ENCRYPTION_KEYS"].split(",") if k.strip()]
    if not keys:
        raise RuntimeError("ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret, encrypted under the newest key."""
    return _cipher().rotate(token.encode()).decode()
