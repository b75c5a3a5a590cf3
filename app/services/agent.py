"""The in-guest agent: its per-machine token, and the heartbeats it sends.

Each machine gets a random token at creation, written only into its first-boot script;
we keep the SHA-256 digest. A heartbeat names its machine and carries the token; the
digests are compared in constant time, and a heartbeat that does not match records
nothing. ``last_accessed`` is the last time the agent saw a Remote Desktop session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from app.errors import Unauthorized
from app.extensions import db
from app.models import Instance, InstanceStatus
from app.models.base import utcnow

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "nrag_"
# Compared against when the machine is unknown, so every refusal costs the same work.
_NO_DIGEST = "0" * 64


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token(instance: Instance) -> str:
    """A fresh token for the machine's agent; its digest replaces any earlier one.

    The caller commits before the token leaves the process (in the machine's user data).
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    instance.agent_token_digest = token_digest(token)
    return token


def record_heartbeat(
    instance_id: int, token: str, sessions: int, agent_version: str | None
) -> Instance:
    """Record one report of the agent of ``instance_id``; Unauthorized if the token is not
    that machine's."""
    instance = db.session.get(Instance, instance_id)
    expected = instance.agent_token_digest if instance is not None else None
    matches = hmac.compare_digest(token_digest(token), expected or _NO_DIGEST)
    if instance is None or expected is None or not matches:
        logger.warning("agent heartbeat refused", extra={"instance_id": instance_id})
        raise Unauthorized("Invalid agent token for this machine.")
    if instance.status == InstanceStatus.TERMINATED:
        raise Unauthorized("This machine is terminated.")
    now = utcnow()
    instance.last_heartbeat_at = now
    instance.agent_version = agent_version
    if sessions > 0:
        instance.last_accessed = now
    db.session.commit()
    return instance
