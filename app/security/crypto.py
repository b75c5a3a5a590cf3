"""Encryption at rest for secrets (machine passwords, TOTP secrets): MultiFernet.

``ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts, every one
decrypts. To rotate, put a new key first (``flask keys generate``), deploy, re-encrypt
every stored secret under it (``flask keys rotate``), then drop the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


@lru_cache(maxsize=8)
def _ciphers(keys_setting: str) -> tuple[MultiFernet, Fernet]:
    """Every key as one MultiFernet, and the newest alone."""
    keys = [k.strip() for k in keys_setting.split(",") if k.strip()]
    if not keys:
        raise RuntimeError("ENCRYPTION_KEYS is empty")
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _cipher() -> MultiFernet:
    return _ciphers(current_app.config["ENCRYPTION_KEYS"])[0]


def generate_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()


def is_current(token: str) -> bool:
    """Whether the newest key encrypted this token (so rotating it would change nothing)."""
    try:
        _ciphers(current_app.config["ENCRYPTION_KEYS"])[1].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same secret, encrypted under the newest key (InvalidToken if no key opens it)."""
    return _cipher().rotate(token.encode()).decode()
