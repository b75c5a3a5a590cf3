"""Console tickets: the one way into a machine's desktop from the browser.

The owner of an active machine asks for a ticket (audited as ``instance.console``); the
browser hands it to the console gateway as the first WebSocket message, and the gateway
redeems it. A ticket is random, kept in Redis only by its hash, lives
``CONSOLE_TICKET_SECONDS`` and is taken out on first use (GETDEL), so a copy seen later is
worth nothing. The machine's credentials stay on the server: the gateway reads them from
the database when it redeems the ticket.

A customer has at most ``CONSOLE_MAX_PER_CUSTOMER`` consoles open, counted over every
gateway: each open console holds a lease in a Redis sorted set of its customer's, renewed
while it runs (`LEASE_SECONDS`), so one whose gateway died stops counting on its own.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field

import redis
from flask import current_app

from app.errors import Conflict, ServiceUnavailable
from app.extensions import db
from app.models import Instance, InstanceStatus, User
from app.redis_client import failing_fast
from app.security import crypto
from app.services import audit
from app.services.instances import get_for

KEY_PREFIX = "nemordp:console:ticket:"
OPEN_PREFIX = "nemordp:console:open:"
LEASE_SECONDS = 60

# Drop the expired leases, then add this one unless the customer holds the most already.
_CLAIM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True)
class ConsoleTarget:
    """Where the gateway connects for a redeemed ticket, and as whom."""

    user_id: int
    instance_id: int
    host: str
    port: int
    username: str
    password: str = field(repr=False)


def _key(ticket: str) -> str:
    return KEY_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def issue(user: User, instance_id: int) -> dict[str, str | int]:
    """A single-use ticket to the desktop of the user's active machine, and where to use it."""
    instance = get_for(user, instance_id)
    if instance.status != InstanceStatus.ACTIVE or not instance.ip_address:
        raise Conflict("The console is available once the instance is active.")
    if instance.password_encrypted is None:
        raise Conflict("This instance has no credentials yet.")
    ticket = secrets.token_urlsafe(32)
    seconds = current_app.config["CONSOLE_TICKET_SECONDS"]
    value = json.dumps({"user_id": user.id, "instance_id": instance.id})
    try:
        if open_consoles(user.id) >= current_app.config["CONSOLE_MAX_PER_CUSTOMER"]:
            raise Conflict(TOO_MANY)
        failing_fast(current_app.config["REDIS_URL"]).set(_key(ticket), value, ex=seconds)
    except redis.RedisError as error:
        raise ServiceUnavailable() from error
    audit.record("instance.console", user.id, instance_id=instance.id)
    db.session.commit()
    return {"ticket": ticket, "url": current_app.config["CONSOLE_URL"], "expires_in": seconds}


def redeem(ticket: str) -> ConsoleTarget | None:
    """The machine a ticket opens, once; None for an unknown, used or expired ticket, or a
    machine no longer active or no longer the ticket holder's."""
    if not ticket or len(ticket) > 100:
        return None
    raw = failing_fast(current_app.config["REDIS_URL"]).getdel(_key(ticket))
    if raw is None:
        return None
    claim = json.loads(raw)
    instance = db.session.get(Instance, claim["instance_id"])
    try:
        if (
            instance is None
            or instance.user_id != claim["user_id"]
            or instance.status != InstanceStatus.ACTIVE
            or not instance.ip_address
            or instance.password_encrypted is None
        ):
            return None
        return ConsoleTarget(
            user_id=instance.user_id,
            instance_id=instance.id,
            host=instance.ip_address,
            port=current_app.config["RDP_PORT"],
            username=instance.username or "",
            password=crypto.decrypt(instance.password_encrypted),
        )
    finally:
        db.session.rollback()


TOO_MANY = "You have as many consoles open as you may; close one first."


def _open_key(user_id: int) -> str:
    return f"{OPEN_PREFIX}{user_id}"


def open_consoles(user_id: int) -> int:
    """How many consoles the customer has open now, over every gateway."""
    client = failing_fast(current_app.config["REDIS_URL"])
    return int(client.zcount(_open_key(user_id), time.time(), "+inf"))


def claim_lease(user_id: int, console_id: str) -> bool:
    """Count the console ``console_id`` among the customer's open ones; False (nothing
    counted) when they have ``CONSOLE_MAX_PER_CUSTOMER`` open already."""
    now = time.time()
    claimed = failing_fast(current_app.config["REDIS_URL"]).eval(
        _CLAIM,
        1,
        _open_key(user_id),
        now,
        current_app.config["CONSOLE_MAX_PER_CUSTOMER"],
        now + LEASE_SECONDS,
        console_id,
        LEASE_SECONDS * 2,
    )
    return bool(claimed)


def renew_lease(user_id: int, console_id: str) -> None:
    client = failing_fast(current_app.config["REDIS_URL"])
    client.zadd(_open_key(user_id), {console_id: time.time() + LEASE_SECONDS}, xx=True)
    client.expire(_open_key(user_id), LEASE_SECONDS * 2)


def release_lease(user_id: int, console_id: str) -> None:
    failing_fast(current_app.config["REDIS_URL"]).zrem(_open_key(user_id), console_id)
