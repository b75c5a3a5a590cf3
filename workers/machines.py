"""Carrying out jobs on machines at their provider, one short step at a time.

Tasks call these functions and own the scheduling: each function does one provider step,
records what it learnt at once, and returns whether the job is finished. Provider errors
propagate as `TransientError` (the task retries) or `PermanentError` (`fail` ends the job).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app import metrics
from app.extensions import db
from app.models import Instance, InstanceStatus, Job, Plan
from app.models.base import utcnow
from app.security import crypto
from app.security.passwords import generate_machine_password
from app.services import agent, alerts, audit, jobs
from app.services.tasks import enqueue
from workers import cloud_init, rdp_probe
from workers.agent_install import AgentSetup
from workers.outside_errors import OutsideError, PermanentError, TransientError
from workers.providers.base import (
    CreateRequest,
    Machine,
    MachineNotFound,
    MachineState,
    ProviderClient,
)
from workers.providers.registry import client_for

logger = logging.getLogger(__name__)

S = InstanceStatus

# How long after a create a 404 from the provider still means "not visible yet".
NOT_FOUND_GRACE_SECONDS = 120

# What each kind of job waits for after its provider call, and the status it ends in.
TARGET = {
    "provision": S.ACTIVE,
    "restart": S.ACTIVE,
    "start": S.ACTIVE,
    "stop": S.STOPPED,
    "suspend": S.SUSPENDED,
    "change_plan": S.ACTIVE,
}

# The status an instance must still have for a job's step to make sense.
EXPECTED = {
    "provision": (S.PROVISIONING, S.BOOTING),
    "restart": (S.RESTARTING,),
    "start": (S.STARTING,),
    "stop": (S.STOPPING,),
    "suspend": (S.STOPPING,),
    "change_plan": (S.RESIZING,),
}


def _instance(job: Job) -> Instance:
    assert job.instance is not None, "machine jobs always have an instance"
    return job.instance


def superseded(job: Job) -> bool:
    """True (and the job closed) when the instance moved on, e.g. terminated meanwhile."""
    instance = _instance(job)
    if job.kind in EXPECTED and instance.status not in EXPECTED[job.kind]:
        jobs.mark_failed(job, f"superseded: the instance is now {instance.status}")
        db.session.commit()
        return True
    return False


def _lock(instance: Instance) -> None:
    """Re-read the instance and hold its row until the commit."""
    db.session.scalar(
        select(Instance)
        .where(Instance.id == instance.id)
        .with_for_update(of=Instance)
        .execution_options(populate_existing=True)
    )


def _record(instance: Instance, machine: Machine) -> None:
    instance.provider_id = machine.provider_id
    instance.ip_address = machine.ip_address
    instance.ipv6_address = machine.ipv6_address
    db.session.commit()


def create(job: Job) -> None:
    """Order the machine, or adopt the one a lost create response left behind.

    The label is looked up first, so a retried create never makes a second machine.
    """
    instance = _instance(job)
    if instance.provider_id is None:
        assert instance.provider is not None
        client = client_for(instance.provider)
        # Only a repeated attempt can have made a machine already (its answer lost, or the
        # worker killed): then the label is looked up and the machine adopted.
        machine = client.find_by_label(instance.label) if job.attempts > 1 else None
        if machine is not None and client.generates_password:
            # Its password was shown only in the lost answer: a machine nobody can log in
            # to is worth nothing, so it goes and a new one is ordered.
            logger.info("replacing a machine whose password was lost", extra={"job_id": job.id})
            _destroy_surely(client, instance.label, machine.provider_id)
            machine = None
        if machine is None:
            password = _chosen_password(instance, client.generates_password)
            # A fresh agent token per order; its digest is stored before the order leaves.
            agent_token = agent.mint_token(instance)
            db.session.commit()
            offer = instance.plan.offers[instance.provider]
            machine = client.create(
                CreateRequest(
                    label=instance.label,
                    plan=offer["plan"],
                    region=offer["regions"][instance.region],
                    os_type=instance.os_type,
                    user_data=cloud_init.user_data(
                        instance.os_type,
                        instance.username or "",
                        _agent_setup(instance, agent_token),
                    ),
                    password=password,
                )
            )
            if machine.default_password is not None:
                instance.password_encrypted = crypto.encrypt(machine.default_password)
        else:
            logger.info("adopted existing machine", extra={"instance_id": instance.id})
        _record(instance, machine)
    _lock(instance)
    if instance.status not in EXPECTED["provision"]:
        # Terminated while we were ordering: the terminate job may have missed this machine.
        assert instance.provider is not None and instance.provider_id is not None
        client_for(instance.provider).destroy(instance.provider_id)
        jobs.mark_failed(job, f"superseded: the instance is now {instance.status}")
        db.session.commit()
        return
    instance.status = S.BOOTING
    job.step = "created"
    job.context = {**job.context, "created_at": utcnow().isoformat()}
    db.session.commit()


def _chosen_password(instance: Instance, provider_generates: bool) -> str | None:
    """The password we choose for the machine, stored (uncommitted) before the order leaves
    so a machine adopted after a lost answer still has credentials we know; None where
    the provider generates it (the credentials stay empty until its answer)."""
    if provider_generates:
        instance.password_encrypted = None
        return None
    if instance.password_encrypted is None:
        instance.password_encrypted = crypto.encrypt(generate_machine_password())
    return crypto.decrypt(instance.password_encrypted)


def _agent_setup(instance: Instance, token: str) -> AgentSetup:
    config = current_app.config
    return AgentSetup(
        config["AGENT_API_URL"], instance.id, token, config["AGENT_HEARTBEAT_MINUTES"]
    )


def perform(job: Job) -> None:
    """The provider call of a restart, stop, start, suspension or plan change; done once
    even if redelivered."""
    if job.step == "called":
        return
    instance = _instance(job)
    assert instance.provider is not None and instance.provider_id is not None
    client = client_for(instance.provider)
    if job.kind == "change_plan":
        plan = db.session.scalar(select(Plan).where(Plan.code == job.context["plan"]))
        assert plan is not None
        client.resize(instance.provider_id, plan.offers[instance.provider]["plan"])
        instance.plan = plan
    else:
        call = {
            "restart": client.reboot,
            "stop": client.stop,
            "suspend": client.stop,
            "start": client.start,
        }[job.kind]
        call(instance.provider_id)
    job.step = "called"
    db.session.commit()


def advance(job: Job) -> bool:
    """Look at the machine; finish the job if it reached its target. True when finished."""
    instance = _instance(job)
    assert instance.provider is not None and instance.provider_id is not None
    try:
        machine = client_for(instance.provider).get(instance.provider_id)
    except MachineNotFound:
        if job.kind == "provision" and _just_created(job):
            return False  # providers 404 for a moment right after create
        raise
    if machine.state == MachineState.ERROR:
        raise PermanentError("the provider reports the machine in an error state")
    if machine.state == MachineState.GONE:
        raise PermanentError("the machine no longer exists at the provider")
    if machine.ip_address != instance.ip_address or machine.ipv6_address != instance.ipv6_address:
        _record(instance, machine)
    target = TARGET[job.kind]
    reached = (
        machine.state == MachineState.STOPPED
        if target in (S.STOPPED, S.SUSPENDED)
        else machine.ready and _rdp_answers(machine)
    )
    if not reached:
        return False
    instance.status = target
    instance.status_reason = None
    if job.kind == "provision":
        instance.delivered_at = utcnow()
    jobs.mark_succeeded(job)
    db.session.commit()
    return True


def _just_created(job: Job) -> bool:
    created_at = job.context.get("created_at")
    if created_at is None:
        return False
    age = utcnow() - datetime.fromisoformat(created_at)
    return age.total_seconds() < NOT_FOUND_GRACE_SECONDS


def _rdp_answers(machine: Machine) -> bool:
    address = machine.ip_address or machine.ipv6_address
    config = current_app.config
    return bool(address) and rdp_probe.probe(
        address or "", config["RDP_PORT"], config["RDP_PROBE_TIMEOUT"]
    )


def terminate(job: Job) -> None:
    """Destroy the machine at the provider (idempotent), then mark it terminated."""
    instance = _instance(job)
    if instance.provider is not None:
        client = client_for(instance.provider)
        provider_id = instance.provider_id
        if provider_id is None:  # a create may have happened without its answer reaching us
            found = client.find_by_label(instance.label)
            provider_id = found.provider_id if found else None
        if provider_id is not None:
            _destroy_surely(client, instance.label, provider_id)
    instance.status = S.TERMINATED
    instance.terminated_at = utcnow()
    instance.password_encrypted = None
    jobs.mark_succeeded(job)
    audit.record("instance.terminated", job.user_id, instance_id=instance.id)
    db.session.commit()


def _destroy_surely(client: ProviderClient, label: str, provider_id: str) -> None:
    """Destroy the machine, then make sure: a young machine can 404 at the provider as if
    already gone (TransientError while it is still listed)."""
    client.destroy(provider_id)
    remaining = client.find_by_label(label)
    if remaining is not None and remaining.state != MachineState.GONE:
        raise TransientError(f"{label} still exists after destroy")


def fail_over(job: Job, error: OutsideError) -> bool:
    """After a permanent create failure, move the order to another provider offering the
    plan in the region. True when the job should run again."""
    instance = _instance(job)
    if job.kind != "provision" or instance.provider_id is not None:
        return False
    tried = [*job.context.get("failed_providers", []), instance.provider]
    others = [p for p in instance.plan.providers_for(instance.region) if p not in tried]
    if not others:
        return False
    logger.warning(
        "provider %s refused the order (%s); trying %s",
        instance.provider,
        error.message,
        others[0],
        extra={"job_id": job.id},
    )
    job.context = {**job.context, "failed_providers": tried}
    instance.provider = others[0]
    job.step = None
    db.session.commit()
    return True


def fail(job: Job, reason: str) -> None:
    """End a job as failed, leave the instance in an honest state, clean up, alert."""
    instance = _instance(job)
    jobs.mark_failed(job, reason)
    if job.kind == "provision":
        metrics.provisioning_failures.labels(instance.provider or "none").inc()
        instance.status = S.FAILED
        instance.status_reason = reason[:500]
        _destroy_quietly(instance)
    else:
        # The machine is still there: back to where it was, with the reason shown.
        instance.status = job.from_status or instance.status
        instance.status_reason = f"{job.kind} failed: {reason}"[:500]
    db.session.commit()
    alerts.job_failed(job)
    if job.kind == "provision":  # no machine: the subscription ends, the payment goes back
        enqueue("billing.settle_undelivered", instance.id)


def _destroy_quietly(instance: Instance) -> None:
    """Best-effort cleanup after a failed order; reconciliation catches what this misses."""
    if instance.provider is None:
        return
    client = client_for(instance.provider)
    try:
        provider_id = instance.provider_id
        if provider_id is None:
            found = client.find_by_label(instance.label)
            provider_id = found.provider_id if found else None
        if provider_id is not None:
            client.destroy(provider_id)
    except OutsideError as exc:
        logger.error(
            "cleanup of a failed order did not complete: %s",
            exc.message,
            extra={"instance_id": instance.id},
        )
