"""Fresh OpenSSH public keys for tests."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def public_key(kind: str = "ed25519", comment: str = "me@laptop") -> str:
    """A new public key of ``kind`` (ed25519, ecdsa, rsa2048 or rsa1024) in OpenSSH form."""
    private: PrivateKeyTypes = {
        "ed25519": lambda: ed25519.Ed25519PrivateKey.generate(),
        "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
        "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
        "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
    }[kind]()
    text = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return f"{text.decode()} {comment}"
