"""Deleting an account: refuse sign-in at once, terminate every machine through jobs, then
erase the personal data.

What the law makes us keep stays: the user row (its id, so invoices and the audit trail still
point somewhere), the instances' records, invoices and audit events. Subscriptions are not
cancelled here: terminating a machine is the one place that cancels its subscription (the
billing code hooks into the terminate job), so deletion cannot bill a customer for a machine
it has destroyed, nor destroy one it still bills.

`request` runs in the web request; the task ``accounts.delete`` calls `advance` until it
answers True, re-scheduling itself in between (never waiting inside a worker).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select

from app import task_names
from app.extensions import db
from app.models import (
    ApiToken,
    EmailToken,
    Instance,
    InstanceStatus,
    Job,
    RecoveryCode,
    SshKey,
    SupportTicket,
    TicketMessage,
    User,
)
from app.models.base import utcnow
from app.services import audit, lifecycle, logins
from app.services.account_settings import check_password, revoke_api_tokens
from app.services.lifecycle import JobKind
from app.services.tasks import enqueue, require_broker

logger = logging.getLogger(__name__)

# How long erasure waits for the machines; a terminate job that fails has alerted ops.
MACHINES_WAIT = timedelta(hours=1)
# Argon2 never produces this, so no password ever matches it.
ERASED_PASSWORD_HASH = "!erased"


def request(user: User, password: str) -> None:
    """Check the password, lock the account out, start terminating its machines."""
    check_password(user, password, field="password", purpose="account_delete")
    user.is_active_account = False
    user.deletion_requested_at = utcnow()
    logins.end_all(user)  # every session ends
    revoke_api_tokens(user)
    started = _start_terminations(user)
    audit.record("account.deletion_requested", user.id, machines=len(started))
    require_broker()
    db.session.commit()
    enqueue(task_names.DELETE_ACCOUNT, user.id)


def advance(user_id: int) -> bool:
    """One step of a deletion: True once the personal data is erased (or nothing to do)."""
    user = db.session.get(User, user_id)
    if user is None or user.deletion_requested_at is None or user.erased_at is not None:
        return True
    _start_terminations(user)  # e.g. an order that was still being placed
    db.session.commit()
    terminating = db.session.scalar(
        select(Instance.id)
        .where(Instance.user_id == user.id, Instance.status == InstanceStatus.TERMINATING)
        .limit(1)
    )
    if terminating is not None and utcnow() - user.deletion_requested_at < MACHINES_WAIT:
        return False
    _erase(user)
    return True


def _start_terminations(user: User) -> list[Job]:
    """A terminate job for each machine that has not had one since deletion was asked for
    (sent once the caller commits); a machine whose terminate failed is not retried
    forever: the failure alerted ops."""
    assert user.deletion_requested_at is not None
    tried = select(Job.instance_id).where(
        Job.user_id == user.id,
        Job.kind == JobKind.TERMINATE,
        Job.created_at >= user.deletion_requested_at,
        Job.instance_id.is_not(None),
    )
    machines = db.session.scalars(
        select(Instance)
        .where(
            Instance.user_id == user.id,
            Instance.status.in_(lifecycle.OWNER_ACTIONS[JobKind.TERMINATE]),
            Instance.id.not_in(tried),
        )
        .order_by(Instance.id)
        .with_for_update(of=Instance)
    )
    return [
        lifecycle.start_job(
            instance,
            JobKind.TERMINATE,
            audit_as="instance.terminate_requested",
            actor=user.id,
            details={"reason": "account"},
            reason="account deleted",
        )
        for instance in list(machines)
    ]


def _erase(user: User) -> None:
    """Replace everything that identifies the person; keep what the law needs."""
    left = list(
        db.session.scalars(
            select(Instance.id).where(
                Instance.user_id == user.id, Instance.status != InstanceStatus.TERMINATED
            )
        )
    )
    if left:
        logger.error("account erased with machines not terminated", extra={"instance_ids": left})
    user.email = f"erased-{user.id}@erased.invalid"
    user.full_name = ""
    user.password_hash = ERASED_PASSWORD_HASH
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    user.email_notifications = False
    tickets = select(SupportTicket.id).where(SupportTicket.user_id == user.id)
    db.session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(tickets)))
    db.session.execute(delete(SupportTicket).where(SupportTicket.user_id == user.id))
    for model in (ApiToken, EmailToken, RecoveryCode, SshKey):
        db.session.execute(delete(model).where(model.user_id == user.id))
    user.erased_at = utcnow()
    audit.record("account.erased", user.id, machines_left=left)
    db.session.commit()
    enqueue(task_names.ERASE_CUSTOMER, user.id)  # Stripe's copy of the e-mail and name
    logger.info("account erased", extra={"user_id": user.id})
