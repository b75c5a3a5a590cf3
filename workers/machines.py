"""Carrying out jobs on machines at their provider, one short step at a time.

Tasks run these steps through `tasks.support` and own the scheduling: each step makes one
provider call and records at once what it learnt (the provider's id, addresses, password),
so a redelivered task never repeats a call; where the machine's status changes or the job
ends, the lifecycle (`app.services.lifecycle`) does it. Provider errors propagate as
`TransientError` (the task retries) or `PermanentError` (`fail` ends the job).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Instance, InstanceStatus, Job, Plan
from app.models.base import utcnow
from app.security import crypto
from app.security.passwords import generate_machine_password
from app.services import agent, lifecycle, ssh_keys
from app.services.instances import username_for
from app.services.lifecycle import JobKind
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


def _instance(job: Job) -> Instance:
    assert job.instance is not None, "machine jobs always have an instance"
    return job.instance


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
            keys = ssh_keys.public_keys_of(instance.id)
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
                        keys,
                    ),
                    password=password,
                    ssh_keys=keys,
                )
            )
            if machine.default_password is not None:
                instance.password_encrypted = crypto.encrypt(machine.default_password)
        else:
            logger.info("adopted existing machine", extra={"instance_id": instance.id})
        _record(instance, machine)
    lifecycle.lock(instance)
    if lifecycle.moved_on(job):
        # Terminated while we were ordering: the terminate job may have missed this machine.
        assert instance.provider is not None and instance.provider_id is not None
        client_for(instance.provider).destroy(instance.provider_id)
        lifecycle.superseded(job)
        return
    lifecycle.machine_created(job)
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
    if job.kind == JobKind.CHANGE_PLAN:
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


def reinstall(job: Job) -> None:
    """Reinstall the chosen system (``job.context["os"]``); done once even if redelivered.

    The password we choose is kept encrypted in the job until the provider took the order,
    so a retried call sends the same one; once it did, it (or the one the provider
    generated) replaces the old credentials, which the erased disk no longer knows."""
    if job.step == "called":
        return
    instance = _instance(job)
    assert instance.provider is not None and instance.provider_id is not None
    client = client_for(instance.provider)
    system = job.context["os"]
    if not client.generates_password and "password" not in job.context:
        job.context = {**job.context, "password": crypto.encrypt(generate_machine_password())}
    agent_token = agent.mint_token(instance)
    db.session.commit()
    chosen = job.context.get("password")
    username = username_for(system)
    keys = ssh_keys.public_keys_of(instance.id)
    generated = client.reinstall(
        instance.provider_id,
        system,
        cloud_init.user_data(system, username, _agent_setup(instance, agent_token), keys),
        crypto.decrypt(chosen) if chosen else "",
        keys,
    )
    instance.os_type, instance.username = system, username
    instance.password_encrypted = crypto.encrypt(generated) if generated else chosen
    job.context = {key: value for key, value in job.context.items() if key != "password"}
    job.step = "called"
    db.session.commit()


# The steps after which a job waits for its machine to get there (`workers.machine_checks`).
AWAITING_STEPS = ("created", "called")


def look(job: Job) -> Machine | None:
    """The job's machine as the provider shows it now; None while a machine just created
    is not visible yet (providers 404 for a moment after a create)."""
    instance = _instance(job)
    assert instance.provider is not None and instance.provider_id is not None
    try:
        return client_for(instance.provider).get(instance.provider_id)
    except MachineNotFound:
        if job.kind == JobKind.PROVISION and _just_created(job):
            return None
        raise


def settle(job: Job, machine: Machine) -> None:
    """Act on what the provider shows of the job's machine: record new addresses, finish
    the job once the machine reached its target; `PermanentError` when the machine is in
    error or gone."""
    instance = _instance(job)
    if machine.state == MachineState.ERROR:
        raise PermanentError("the provider reports the machine in an error state")
    if machine.state == MachineState.GONE:
        raise PermanentError("the machine no longer exists at the provider")
    if machine.ip_address != instance.ip_address or machine.ipv6_address != instance.ipv6_address:
        _record(instance, machine)
    target = lifecycle.KINDS[job.kind].target
    reached = (
        machine.state == MachineState.STOPPED
        if target in (S.STOPPED, S.SUSPENDED)
        else machine.ready and _rdp_answers(machine)
    )
    if reached:
        lifecycle.finish_job(job)


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
    """Destroy the machine at the provider (idempotent); the lifecycle marks it terminated."""
    instance = _instance(job)
    if instance.provider is not None:
        client = client_for(instance.provider)
        provider_id = instance.provider_id
        if provider_id is None:  # a create may have happened without its answer reaching us
            found = client.find_by_label(instance.label)
            provider_id = found.provider_id if found else None
        if provider_id is not None:
            _destroy_surely(client, instance.label, provider_id)
    lifecycle.finish_job(job)


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
    if job.kind != JobKind.PROVISION or instance.provider_id is not None:
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
    """End a job as failed (`lifecycle.fail_job`); a failed order's machine, if one was
    made, is destroyed."""
    lifecycle.fail_job(job, reason)
    if job.kind == JobKind.PROVISION and job.instance is not None:
        _destroy_quietly(job.instance)


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
