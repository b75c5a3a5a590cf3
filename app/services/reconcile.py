"""Reconciliation: our database against what a provider actually runs.

Only machines labelled by this install (``nemordp-<INSTALL_ID>-<instance id>``) are looked
at; another install's on the same account, and ours from before labels named the install
(``nemordp-<instance id>``), are left alone.

- A machine of ours that no live instance owns is an orphan: it is reported when first
  seen, and destroyed once it has stayed an orphan for ``RECONCILE_GRACE_SECONDS`` (long
  enough for a human to step in), but only while every guard allows it:

  * its label's instance id is not above the database's highest: a machine newer than the
    database (restored from a backup) is a customer's we no longer know about, and stays
    kept, whatever the ids do later, until an operator decides;
  * destroying is on (``RECONCILE_DESTROY``; off for staging);
  * the pass has destroyed fewer than its cap (``RECONCILE_DESTROY_MAX``, or
    ``RECONCILE_DESTROY_MAX_PERCENT`` of the install's machines there, whichever is larger).

  A machine a guard keeps becomes a `ReconcileFinding`, reported and left to an operator
  (`decide`).
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
from sqlalchemy import delete, func, select, text

from app.errors import NotFound
from app.extensions import db
from app.models import (
    FindingDecision,
    FindingGuard,
    Instance,
    InstanceStatus,
    OrphanMachine,
    ReconcileFinding,
)
from app.models.base import utcnow
from app.models.instance import labelled_instance_id
from app.services import alerts, audit, lifecycle

logger = logging.getLogger(__name__)

S = InstanceStatus
# An instance in these statuses owns no machine any more (or never got one to keep).
DEAD = (S.TERMINATED, S.FAILED)
# Statuses in which the machine must exist and no job is busy with it.
SETTLED = (S.ACTIVE, S.STOPPED, S.SUSPENDED)
OWNER_CHUNK = 1000


@dataclass(frozen=True)
class Listed:
    provider_id: str
    label: str


@dataclass(frozen=True)
class Orphan:
    machine: Listed
    instance_id: int  # the one its label names
    reason: str


@dataclass
class Findings:
    new_orphans: list[int] = field(default_factory=list)  # OrphanMachine ids
    due_orphans: list[OrphanMachine] = field(default_factory=list)  # to destroy now
    kept: list[int] = field(default_factory=list)  # OrphanMachine ids newly kept by a guard
    vanished: list[int] = field(default_factory=list)  # Instance ids marked failed

    @property
    def reportable(self) -> bool:
        return bool(self.new_orphans or self.due_orphans or self.kept or self.vanished)


def assess(provider: str, listed: Iterable[Listed], listed_at: datetime) -> Findings:
    """Compare one provider's full listing (taken at ``listed_at``) with our rows; record
    orphans, kept machines and vanished instances, and return what to report and destroy."""
    listed = list(listed)
    install_id = current_app.config["INSTALL_ID"]
    ours = {
        m.provider_id: (m, instance_id)
        for m in listed
        if (instance_id := labelled_instance_id(m.label, install_id)) is not None
    }
    owners = _owners({instance_id for _, instance_id in ours.values()})
    orphans = {}
    for machine, instance_id in ours.values():
        reason = _orphan_reason(provider, machine, owners.get(instance_id))
        if reason is not None:
            orphans[machine.provider_id] = Orphan(machine, instance_id, reason)
    findings = Findings()
    highest = db.session.scalar(select(func.max(Instance.id))) or 0
    tracked = _track_orphans(provider, orphans, listed_at, findings)
    _judge(provider, orphans, tracked, highest, len(ours), listed_at, findings)
    _fail_vanished(provider, {m.provider_id for m in listed}, listed_at, findings)
    newest = max((instance_id for _, instance_id in ours.values()), default=0)
    if newest > highest:
        _reserve_instance_ids(newest)
    db.session.commit()
    return findings


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
    provider: str, orphans: dict[str, Orphan], now: datetime, findings: Findings
) -> dict[str, OrphanMachine]:
    """Record orphans first seen now, forget those claimed or gone since (and close their
    findings); the rows of every current orphan, by provider id."""
    known = {
        row.provider_id: row
        for row in db.session.scalars(
            select(OrphanMachine).where(OrphanMachine.provider == provider)
        )
    }
    for provider_id, orphan in orphans.items():
        if provider_id in known:
            continue
        row = OrphanMachine(
            provider=provider,
            provider_id=provider_id,
            label=orphan.machine.label[:255],
            reason=orphan.reason[:200],
            first_seen_at=now,
        )
        db.session.add(row)
        db.session.flush()
        known[provider_id] = row
        findings.new_orphans.append(row.id)
        logger.error(
            "orphan machine at %s: %s (%s)",
            provider,
            orphan.machine.label,
            orphan.reason,
            extra={"provider_id": provider_id},
        )
    # Claimed or gone since: no longer an orphan. Destroyed ones stay as a record.
    settled = [pid for pid, row in known.items() if pid not in orphans and row.destroyed_at is None]
    if settled:
        db.session.execute(
            delete(OrphanMachine).where(
                OrphanMachine.provider == provider, OrphanMachine.provider_id.in_(settled)
            )
        )
        _resolve(provider, settled, "claimed by an instance, or gone", now)
    return {pid: known[pid] for pid in orphans}


def _judge(
    provider: str,
    orphans: dict[str, Orphan],
    tracked: dict[str, OrphanMachine],
    highest: int,
    machine_count: int,
    now: datetime,
    findings: Findings,
) -> None:
    """Sort the orphans into those to destroy now, those a guard keeps, and those still
    within their grace period; oldest first, so the cap spares the newest."""
    config = current_app.config
    grace = timedelta(seconds=config["RECONCILE_GRACE_SECONDS"])
    cap = max(
        config["RECONCILE_DESTROY_MAX"],
        int(machine_count * config["RECONCILE_DESTROY_MAX_PERCENT"] / 100),
    )
    kept = {
        row.provider_id: row
        for row in db.session.scalars(
            select(ReconcileFinding).where(ReconcileFinding.provider == provider)
        )
    }
    to_destroy = 0
    for row in sorted(tracked.values(), key=lambda r: (r.first_seen_at, r.id)):
        if row.destroyed_at is not None:
            continue
        orphan = orphans[row.provider_id]
        finding = kept.get(row.provider_id)
        if finding is not None:
            finding.last_seen_at = now
            if finding.decision == FindingDecision.KEEP:
                continue
            if finding.decision == FindingDecision.DESTROY:
                findings.due_orphans.append(row)
                continue
        guard: tuple[FindingGuard, str] | None = None
        if orphan.instance_id > highest or (
            finding is not None
            and finding.resolved_at is None
            and finding.guard == FindingGuard.BEYOND_HIGHEST_ID
        ):
            guard = (
                FindingGuard.BEYOND_HIGHEST_ID,
                f"its instance id {orphan.instance_id} is above the database's highest "
                f"({highest}): the machine is newer than the database, as after a restore "
                "from a backup",
            )
        elif not config["RECONCILE_DESTROY"]:
            guard = (FindingGuard.DESTROY_OFF, "destroying is off here (RECONCILE_DESTROY)")
        elif row.first_seen_at > now - grace:
            continue
        elif to_destroy >= cap:
            guard = (
                FindingGuard.DESTROY_CAP,
                f"this pass destroyed {cap} machine(s) at {provider}, as many as it may "
                "(RECONCILE_DESTROY_MAX, RECONCILE_DESTROY_MAX_PERCENT)",
            )
        if guard is None:
            to_destroy += 1
            findings.due_orphans.append(row)
        elif _keep(provider, orphan, finding, guard, now):
            findings.kept.append(row.id)


def _keep(
    provider: str,
    orphan: Orphan,
    finding: ReconcileFinding | None,
    guard: tuple[FindingGuard, str],
    now: datetime,
) -> bool:
    """Record that a guard keeps this orphan; True when that is news to report."""
    code, detail = guard
    if finding is None:
        finding = ReconcileFinding(
            provider=provider,
            provider_id=orphan.machine.provider_id,
            label=orphan.machine.label[:255],
            instance_id=orphan.instance_id,
            first_seen_at=now,
            last_seen_at=now,
        )
        db.session.add(finding)
    elif finding.resolved_at is None and finding.guard == code:
        return False
    finding.reason = orphan.reason[:200]
    finding.guard, finding.detail = code, detail[:300]
    finding.resolved_at = finding.resolution = None
    logger.error(
        "orphan machine at %s kept: %s (%s)",
        provider,
        orphan.machine.label,
        detail,
        extra={"provider_id": orphan.machine.provider_id},
    )
    return True


def _resolve(provider: str, provider_ids: list[str], resolution: str, now: datetime) -> None:
    for finding in db.session.scalars(
        select(ReconcileFinding).where(
            ReconcileFinding.provider == provider,
            ReconcileFinding.provider_id.in_(provider_ids),
            ReconcileFinding.resolved_at.is_(None),
        )
    ):
        finding.resolved_at, finding.resolution = now, resolution


def _reserve_instance_ids(newest: int) -> None:
    """Move the instance id sequence past ``newest``, a label's id above every row's (a
    restored database): a new order must never take the label of a machine still running.
    SQLite (development) numbers from its highest row and has nothing to move."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    moved = db.session.execute(
        text(
            "WITH seq AS (SELECT pg_get_serial_sequence('instances', 'id')::regclass AS id) "
            "SELECT setval(seq.id, :newest) FROM seq "
            "WHERE :newest > coalesce(pg_sequence_last_value(seq.id), 0)"
        ),
        {"newest": newest},
    ).first()
    if moved is not None:
        logger.warning("instance ids now continue after %s, the newest machine's label", newest)


def _fail_vanished(
    provider: str, listed_ids: set[str], listed_at: datetime, findings: Findings
) -> None:
    """Settled instances created before the listing whose machine it does not show (by
    provider id, whatever its label)."""
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
        lifecycle.vanished(instance, f"the machine no longer exists at {provider}")
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
    _resolve(orphan.provider, [orphan.provider_id], "destroyed", orphan.destroyed_at)
    db.session.commit()


def decide(finding_id: int, decision: FindingDecision, user_id: int | None) -> ReconcileFinding:
    """An operator's answer to a kept machine: keep it for good (resolved now), or have the
    next pass destroy it whatever the guards (resolved once destroyed)."""
    finding = db.session.get(ReconcileFinding, finding_id)
    if finding is None:
        raise NotFound("No such finding.")
    now = utcnow()
    finding.decision, finding.decided_by, finding.decided_at = decision, user_id, now
    if decision == FindingDecision.KEEP:
        finding.resolved_at, finding.resolution = now, "kept by an operator"
    audit.record(
        "orphan.decided",
        user_id,
        provider=finding.provider,
        provider_id=finding.provider_id,
        label=finding.label,
        decision=str(decision),
    )
    db.session.commit()
    return finding


def report(provider: str, findings: Findings) -> bool:
    """Alert ops to one pass's findings (after its commit); one mail per distinct set."""
    orphan_ids = sorted(
        {*findings.new_orphans, *findings.kept, *(o.id for o in findings.due_orphans)}
    )
    orphans = db.session.scalars(
        select(OrphanMachine).where(OrphanMachine.id.in_(orphan_ids)).order_by(OrphanMachine.id)
    ).all()
    kept = {
        f.provider_id: f
        for f in db.session.scalars(
            select(ReconcileFinding).where(
                ReconcileFinding.provider == provider,
                ReconcileFinding.provider_id.in_([o.provider_id for o in orphans]),
                ReconcileFinding.resolved_at.is_(None),
            )
        )
    }
    vanished = db.session.scalars(
        select(Instance).where(Instance.id.in_(findings.vanished)).order_by(Instance.id)
    )
    grace = timedelta(seconds=current_app.config["RECONCILE_GRACE_SECONDS"])
    lines = []
    for orphan in orphans:
        finding = kept.get(orphan.provider_id)
        if orphan.destroyed_at:
            fate = f"destroyed {orphan.destroyed_at:%Y-%m-%d %H:%M} UTC"
        elif finding is not None and finding.decision != FindingDecision.DESTROY:
            fate = f"kept, as {finding.detail}; it waits for an operator's decision"
        else:
            fate = (
                f"will be destroyed after {orphan.first_seen_at + grace:%Y-%m-%d %H:%M} UTC "
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
    # Findings are reported once each (when new, kept, destroyed or vanished), so each
    # report is an incident of its own rather than a repeat to suppress.
    fingerprint = hashlib.sha256(body.encode()).hexdigest()[:16]
    return alerts.raise_alert(
        alerts.Alert(
            f"reconciliation:{provider}:{fingerprint}",
            f"reconciliation with {provider}: {len(lines)} finding(s)",
            body,
        )
    )
