"""SSH public keys on an account, and the keys an order chooses for a Linux machine.

A key is checked by parsing it (`cryptography`'s OpenSSH loader): Ed25519, ECDSA, or RSA of
at least 2048 bits; it is stored as ``<type> <base64>`` plus its comment and named in logs
and audit events only by its SHA-256 fingerprint, as ``ssh-keygen -l`` shows it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import delete, insert, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import OsType, SshKey, User, instance_ssh_keys
from app.services import audit

RSA_MIN_BITS = 2048
MAX_KEYS = 50  # per account


def parsed(public_key: str) -> tuple[str, str]:
    """The key as stored (one line) and its fingerprint; ValidationFailed naming
    ``public_key`` when it is no OpenSSH public key of an accepted kind."""
    text = " ".join(public_key.split())
    try:
        loaded = serialization.load_ssh_public_key(text.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise _invalid("Not an OpenSSH public key (ssh-ed25519, ecdsa-sha2-…, ssh-rsa).") from None
    if isinstance(loaded, rsa.RSAPublicKey):
        if loaded.key_size < RSA_MIN_BITS:
            raise _invalid(f"RSA keys need at least {RSA_MIN_BITS} bits.")
    elif not isinstance(loaded, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise _invalid("Only Ed25519, ECDSA and RSA keys are accepted.")
    return text, fingerprint(text)


def fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return f"SHA256:{digest.rstrip('=')}"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(fields={"public_key": [message]})


def list_for(user: User) -> list[SshKey]:
    query = select(SshKey).where(SshKey.user_id == user.id).order_by(SshKey.id)
    return list(db.session.scalars(query))


def add(user: User, name: str, public_key: str) -> SshKey:
    """Keep a new key on the account; 409 when the account already has it."""
    text, key_print = parsed(public_key)
    db.session.scalar(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    keys = list_for(user)
    if any(key.fingerprint == key_print for key in keys):
        raise Conflict(f"This key is already on the account ({key_print}).")
    if len(keys) >= MAX_KEYS:
        raise Conflict(f"An account holds at most {MAX_KEYS} SSH keys.")
    key = SshKey(user_id=user.id, name=name, public_key=text, fingerprint=key_print)
    db.session.add(key)
    db.session.flush()
    audit.record("ssh_key.added", user.id, ssh_key_id=key.id, fingerprint=key_print)
    db.session.commit()
    return key


def remove(user: User, key_id: int) -> None:
    """Delete a key; machines that have it keep it (it is on their disk)."""
    key = db.session.scalar(select(SshKey).where(SshKey.id == key_id, SshKey.user_id == user.id))
    if key is None:
        raise NotFound("SSH key not found.")
    audit.record("ssh_key.deleted", user.id, ssh_key_id=key.id, fingerprint=key.fingerprint)
    db.session.delete(key)
    db.session.commit()


def chosen(user: User, key_ids: Iterable[int], os_type: str) -> list[SshKey]:
    """The user's keys an order (or a reinstall) names; ValidationFailed naming
    ``ssh_key_ids`` for a system other than Linux or a key that is not the user's."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return []
    if os_type != OsType.LINUX:
        raise ValidationFailed(fields={"ssh_key_ids": ["SSH keys are for Linux machines only."]})
    query = select(SshKey).where(SshKey.user_id == user.id, SshKey.id.in_(wanted))
    keys = list(db.session.scalars(query.order_by(SshKey.id)))
    if len(keys) != len(wanted):
        raise ValidationFailed(fields={"ssh_key_ids": ["Unknown SSH key."]})
    return keys


def attach(instance_id: int, keys: Iterable[SshKey]) -> None:
    """Make ``keys`` the machine's keys (in the caller's transaction)."""
    db.session.execute(
        delete(instance_ssh_keys).where(instance_ssh_keys.c.instance_id == instance_id)
    )
    rows = [{"instance_id": instance_id, "ssh_key_id": key.id} for key in keys]
    if rows:
        db.session.execute(insert(instance_ssh_keys), rows)


def public_keys_of(instance_id: int) -> tuple[str, ...]:
    """The public keys chosen for the machine, to install on it."""
    query = (
        select(SshKey.public_key)
        .join(instance_ssh_keys, instance_ssh_keys.c.ssh_key_id == SshKey.id)
        .where(instance_ssh_keys.c.instance_id == instance_id)
        .order_by(SshKey.id)
    )
    return tuple(db.session.scalars(query))
