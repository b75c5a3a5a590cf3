"""Reconciliation: our database against what a provider actually runs.

- A machine carrying our label (``nemordp-…``) that no live instance owns is an orphan: it
  is reported when first seen and destroyed once it has stayed an orphan for
  ``RECONCILE_GRACE_SECONDS`` (long enough for a human to step in).
- An instance we think exists (active, stopped, suspended) whose machine the provider no
  longer lists is marked failed and reported.

The provider side (listing, destroying) is the worker's; this module decides and records.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Instance, InstanceStatus, OrphanMachine
from app.models.base import utcnow
from app.services import alerts, audit

logger = logging.getLogger(__name__)

S = InstanceStatus
LABEL_PREFIX = "nemordp-"
# An instance in these statuses owns no machine any more (or never got one to keep).
DEAD = (S.TERMINATED, S.FAILED)
# Statuses in which the machine must exist and no job is busy with it.
SETTLED = (S.ACTIVE, S.STOPPED, S.SUSPENDED)
OWNER_CHUNK = 1000


@dataclass(frozen=True)
class Listed:
    provider_id: str
    label: str


@dataclass
class Findings:
    new_orphans: list[int] = field(default_factory=list)  # OrphanMachine ids
    due_orphans: list[OrphanMachine] = field(default_factory=list)  # to destroy now
    vanished: list[int] = field(default_factory=list)  # Instance ids marked failed

    @property
    def reportable(self) -> bool:
        return bool(self.new_orphans or self.due_orphans or self.vanished)


def assess(provider: str, listed: Iterable[Listed], listed_at: datetime) -> Findings:
    """Compare one provider's full listing (taken at ``listed_at``) with our rows; record
    orphans and vanished machines, and return what to report and destroy."""
    ours = [m for m in listed if m.label.startswith(LABEL_PREFIX)]
    owner_ids = {m.provider_id: _owner_of(m.label) for m in ours}
    owners = _owners({i for i in owner_ids.values() if i is not None})
    findings = Findings()
    orphans = {}
    for machine in ours:
        owner_id = owner_ids[machine.provider_id]
        owner = owners.get(owner_id) if owner_id is not None else None
        reason = _orphan_reason(provider, machine, owner)
        if reason is not None:
            orphans[machine.provider_id] = (machine, reason)
    _track_orphans(provider, orphans, listed_at, findings)
    _fail_vanished(provider, {m.provider_id for m in ours}, listed_at, findings)
    db.session.commit()
    return findings


def _owner_of(label: str) -> int | None:
    suffix = label.removeprefix(LABEL_PREFIX)
    return int(suffix) if suffix.isdigit() else None


def _owners(instance_ids: set[int]) -> dict[int, Instance]:
    """The instances the labels name, loaded a chunk at a time (not one query each)."""
    ids = sorted(instance_ids)
    found: dict[int, Instance] = {}
    for start in range(0, len(ids), OWNER_CHUNK):
        chunk = ids[start : start + OWNER_CHUNK]
        found.update(
            (i.id, i) for i in db.session.scalars(select(Instance).where(Instance.id.in_(chunk)))
        )
    return found


def _orphan_reason(provider: str, machine: Listed, instance: Instance | None) -> str | None:
    """Why nothing owns this machine, or None when ``instance`` (its label's) does."""
    if instance is None:
        return "no such instance"
    if instance.status in DEAD:
        return f"instance is {instance.status}"
    if instance.provider != provider:
        return f"instance runs at {instance.provider}"
    if instance.provider_id not in (None, machine.provider_id):
        return f"instance owns machine {instance.provider_id}"
    return None


def _track_orphans(
    provider: str,
    orphans: dict[str, tuple[Listed, str]],
    now: datetime,
    findings: Findings,
) -> None:
    known = {
        row.provider_id: row
        for row in db.session.scalars(
            select(OrphanMachine).where(OrphanMachine.provider == provider)
        )
    }
    grace = timedelta(seconds=current_app.config["RECONCILE_GRACE_SECONDS"])
    for provider_id, (machine, reason) in orphans.items():
        row = known.get(provider_id)
        if row is None:
            row = OrphanMachine(
                provider=provider,
                provider_id=provider_id,
                label=machine.label[:255],
                reason=reason[:200],
                first_seen_at=now,
            )
            db.session.add(row)
            db.session.flush()
            findings.new_orphans.append(row.id)
            logger.error(
                "orphan machine at %s: %s (%s)",
                provider,
                machine.label,
                reason,
                extra={"provider_id": provider_id},
            )
        elif row.first_seen_at <= now - grace:
            findings.due_orphans.append(row)
    # Claimed or gone since: no longer an orphan. Destroyed ones stay as a record.
    settled = [pid for pid, row in known.items() if pid not in orphans and row.destroyed_at is None]
    if settled:
        db.session.execute(
            delete(OrphanMachine).where(
                OrphanMachine.provider == provider, OrphanMachine.provider_id.in_(settled)
            )
        )


def _fail_vanished(
    provider: str, listed_ids: set[str], listed_at: datetime, findings: Findings
) -> None:
    """Settled instances created before the listing whose machine it does not show."""
    expected = db.session.execute(
        select(Instance.id, Instance.provider_id).where(
            Instance.provider == provider,
            Instance.status.in_(SETTLED),
            Instance.provider_id.is_not(None),
            Instance.created_at < listed_at,
        )
    )
    missing = [row.id for row in expected if row.provider_id not in listed_ids]
    for instance in db.session.scalars(select(Instance).where(Instance.id.in_(missing))):
        instance.status = S.FAILED
        instance.status_reason = f"the machine no longer exists at {provider}"
        audit.record(
            "instance.vanished", instance.user_id, instance_id=instance.id, provider=provider
        )
        findings.vanished.append(instance.id)
        logger.error(
            "instance %s vanished at %s", instance.id, provider, extra={"instance_id": instance.id}
        )


def mark_destroyed(orphan: OrphanMachine) -> None:
    orphan.destroyed_at = utcnow()
    audit.record(
        "orphan.destroyed",
        None,
        provider=orphan.provider,
        provider_id=orphan.provider_id,
        label=orphan.label,
    )
    db.session.commit()


def report(provider: str, findings: Findings) -> bool:
    """Alert ops to one pass's findings (after its commit); one mail per distinct set."""
    orphan_ids = sorted({*findings.new_orphans, *(o.id for o in findings.due_orphans)})
    orphans = db.session.scalars(
        select(OrphanMachine).where(OrphanMachine.id.in_(orphan_ids)).order_by(OrphanMachine.id)
    )
    vanished = db.session.scalars(
        select(Instance).where(Instance.id.in_(findings.vanished)).order_by(Instance.id)
    )
    grace = timedelta(seconds=current_app.config["RECONCILE_GRACE_SECONDS"])
    lines = []
    for orphan in orphans:
        fate = (
            f"destroyed {orphan.destroyed_at:%Y-%m-%d %H:%M} UTC"
            if orphan.destroyed_at
            else f"will be destroyed after {orphan.first_seen_at + grace:%Y-%m-%d %H:%M} UTC "
            "unless claimed"
        )
        lines.append(
            f"- orphan {orphan.provider} {orphan.provider_id} ({orphan.label}): "
            f"{orphan.reason}; first seen {orphan.first_seen_at:%Y-%m-%d %H:%M} UTC; {fate}"
        )
    for instance in vanished:
        lines.append(
            f"- instance {instance.id} (user {instance.user_id}, {instance.provider} "
            f"{instance.provider_id}) is gone at the provider: marked failed"
        )
    body = f"Reconciliation with {provider} found:\n\n" + "\n".join(lines)
    # Findings are reported once each (when new, when destroyed, when vanished), so each
    # report is an incident of its own rather than a repeat to suppress.
    fingerprint = hashlib.sha256(body.encode()).hexdigest()[:16]
    return alerts.raise_alert(
        alerts.Alert(
            f"reconciliation:{provider}:{fingerprint}",
            f"reconciliation with {provider}: {len(lines)} finding(s)",
            body,
        )
    )
