"""Instances: ordering a machine and every action on it, scoped to its owner.

Routes call these; each validates, changes state, commits, and only then enqueues the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only

from app.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from app.extensions import db
from app.models import Instance, InstanceStatus, Job, OsType, Plan, User
from app.models.base import utcnow
from app.security import crypto
from app.services import audit, checkout, jobs, lifecycle, ssh_keys
from app.services import usage as traffic
from app.services.pagination import Page, paginate
from app.services.tasks import require_broker

S = InstanceStatus


def order(
    user: User,
    plan_code: str,
    os_type: str,
    region: str | None,
    ssh_key_ids: Sequence[int] = (),
) -> Instance:
    """Create an unpaid order (in the plan's default region unless one is given, with the
    user's SSH keys ``ssh_key_ids`` for a Linux machine) and open its payment page; the paid
    checkout's webhook starts provisioning. If Stripe cannot be reached, nothing is kept."""
    if user.suspended_at is not None:
        raise Forbidden("This account is suspended; it cannot order.")
    plan = db.session.scalar(select(Plan).where(Plan.code == plan_code, Plan.active))
    if plan is None:
        raise ValidationFailed(fields={"plan": ["Unknown plan."]})
    if not plan.orderable:
        raise ValidationFailed(fields={"plan": [f"Plan {plan.code} takes no new orders."]})
    region = region or plan.default_region
    if os_type not in {o.value for o in OsType}:
        raise ValidationFailed(fields={"os_type": ["Must be windows or linux."]})
    providers = plan.providers_for(region) if region in plan.open_regions else []
    if not providers:
        offered = ", ".join(plan.open_regions)
        raise ValidationFailed(fields={"region": [f"Plan {plan.code} is offered in: {offered}."]})
    keys = ssh_keys.chosen(user, ssh_key_ids, os_type)
    _refuse_beyond_unpaid_cap(user)
    instance = Instance(
        user_id=user.id,
        plan=plan,
        os_type=os_type,
        region=region,
        provider=providers[0],
        username=username_for(os_type),
    )
    db.session.add(instance)
    if keys:
        db.session.flush()
        ssh_keys.attach(instance.id, keys)
    db.session.commit()  # the id names the payment page and its idempotency key
    try:
        checkout.open_checkout(user, instance)
    except ServiceUnavailable:
        db.session.rollback()
        db.session.delete(instance)
        db.session.commit()
        raise
    audit.record("instance.ordered", user.id, plan=plan.code, region=region, os_type=os_type)
    db.session.commit()
    return instance


def username_for(os_type: str) -> str:
    """The account a customer signs in with on a machine of ``os_type``."""
    return "Administrator" if os_type == OsType.WINDOWS else "nemordp"


def _refuse_beyond_unpaid_cap(user: User) -> None:
    """At most ``UNPAID_ORDERS_MAX`` orders wait for payment per account. The user's row is
    held until the new order commits, so orders placed at once are counted one by one."""
    db.session.scalar(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    cap = current_app.config["UNPAID_ORDERS_MAX"]
    unpaid = db.session.scalar(
        select(func.count())
        .select_from(Instance)
        .where(Instance.user_id == user.id, Instance.status == S.PENDING_PAYMENT)
    )
    if unpaid is not None and unpaid >= cap:
        db.session.rollback()
        raise Conflict(
            f"You already have {unpaid} unpaid orders; at most {cap} may wait for payment "
            "at once. Pay or cancel one first."
        )


def jobs_of(user: User, instance_id: int, limit: int = 20) -> list[Job]:
    """The machine's most recent jobs, newest first."""
    instance = get_for(user, instance_id)
    return list(
        db.session.scalars(
            select(Job).where(Job.instance_id == instance.id).order_by(Job.id.desc()).limit(limit)
        )
    )


# What a machine shows in the list (`InstanceSchema`): of its plan only the names. Whole
# rows (each machine's copy of its plan's offers decoded again) made a list of 20 cost
# twice one machine. A field shown but not loaded here costs a query per machine, which
# tests/hardening/test_query_counts.py catches.
_LISTED = (
    load_only(
        Instance.status,
        Instance.status_reason,
        Instance.os_type,
        Instance.region,
        Instance.provider,
        Instance.ip_address,
        Instance.ipv6_address,
        Instance.username,
        Instance.created_at,
        Instance.last_accessed,
        Instance.data_transfer_gb,
        Instance.checkout_url,
    ),
    joinedload(Instance.plan, innerjoin=True).load_only(Plan.code, Plan.name),
)


def list_for(user: User, page: int, per_page: int) -> Page[Instance]:
    query = (
        select(Instance)
        .where(Instance.user_id == user.id)
        .options(*_LISTED)
        .order_by(Instance.created_at.desc(), Instance.id.desc())
    )
    return paginate(query, page, per_page)


def get_for(user: User, instance_id: int, *, lock: bool = False) -> Instance:
    """The user's instance, or 404; ``lock`` holds its row until the commit."""
    query = select(Instance).where(Instance.id == instance_id, Instance.user_id == user.id)
    instance = db.session.scalar(query.with_for_update(of=Instance) if lock else query)
    if instance is None:
        raise NotFound("Instance not found.")
    return instance


def request_action(user: User, instance_id: int, action: str) -> Job:
    """Start an owner's action (`lifecycle.OWNER_ACTIONS`), or hand back the same action
    already under way (a double click).

    The row lock makes concurrent requests for one machine queue up behind each other. A
    job of an action works in statuses the action does not start from, so the running job
    is looked for only when the status refuses the action.
    """
    instance = get_for(user, instance_id, lock=True)
    if instance.status not in lifecycle.OWNER_ACTIONS[action]:
        running = jobs.active_job(instance.id)
        if running is not None and running.kind == action:
            return running
        raise Conflict(f"Cannot {action} an instance that is {instance.status}.")
    kind = lifecycle.JobKind(action)
    audited = "instance.terminate_requested" if kind == lifecycle.JobKind.TERMINATE else None
    job = lifecycle.start_job(instance, kind, audit_as=audited, actor=user.id)
    require_broker()
    db.session.expunge(job)  # answered as written, not read back after the commit
    db.session.commit()
    return job


def credentials(user: User, instance_id: int) -> dict[str, str]:
    """Username and password of a machine, for its owner; every view is audited."""
    instance = get_for(user, instance_id)
    if instance.password_encrypted is None or instance.status in (S.TERMINATED, S.FAILED):
        raise Conflict("This instance has no credentials yet.")
    audit.record("instance.credentials_viewed", user.id, instance_id=instance.id)
    db.session.commit()
    return {
        "username": instance.username or "",
        "password": crypto.decrypt(instance.password_encrypted),
    }


def rdp_file(user: User, instance_id: int) -> str:
    """A .rdp file for an active machine (CRLF lines, never a password)."""
    instance = get_for(user, instance_id)
    if instance.status != S.ACTIVE or not (instance.ip_address or instance.ipv6_address):
        raise Conflict("The .rdp file is available once the instance is active.")
    address = instance.ip_address or f"[{instance.ipv6_address}]"
    port = current_app.config["RDP_PORT"]
    if port != 3389:
        address = f"{address}:{port}"
    settings = [*RDP_SETTINGS, f"full address:s:{address}", f"username:s:{instance.username}"]
    return "\r\n".join(settings) + "\r\n"


def usage(user: User, instance_id: int) -> dict[str, object]:
    instance = get_for(user, instance_id)
    end: datetime = instance.terminated_at or utcnow()
    return {
        "uptime_hours": round((end - instance.created_at).total_seconds() / 3600, 2),
        "status": instance.status,
        "created_at": instance.created_at,
        "last_accessed": instance.last_accessed,
        "data_transfer_gb": round(instance.data_transfer_gb, 3),
        "traffic_reported": traffic.traffic_reported(instance.provider),
    }


RDP_SETTINGS = [
    "screen mode id:i:2",
    "use multimon:i:0",
    "desktopwidth:i:1920",
    "desktopheight:i:1080",
    "session bpp:i:32",
    "compression:i:1",
    "keyboardhook:i:2",
    "audiocapturemode:i:0",
    "videoplaybackmode:i:1",
    "connection type:i:7",
    "networkautodetect:i:1",
    "bandwidthautodetect:i:1",
    "displayconnectionbar:i:1",
    "enableworkspacereconnect:i:0",
    "disable wallpaper:i:0",
    "allow font smoothing:i:0",
    "allow desktop composition:i:0",
    "disable full window drag:i:1",
    "disable menu anims:i:1",
    "disable themes:i:0",
    "disable cursor setting:i:0",
    "bitmapcachepersistenable:i:1",
    "audiomode:i:0",
    "redirectprinters:i:1",
    "redirectcomports:i:0",
    "redirectsmartcards:i:1",
    "redirectclipboard:i:1",
    "redirectposdevices:i:0",
    "autoreconnection enabled:i:1",
    "authentication level:i:2",
    "prompt for credentials:i:0",
    "negotiate security layer:i:1",
    "remoteapplicationmode:i:0",
    "alternate shell:s:",
    "shell working directory:s:",
    "gatewayhostname:s:",
    "gatewayusagemethod:i:4",
    "gatewaycredentialssource:i:4",
    "gatewayprofileusagemethod:i:0",
    "promptcredentialonce:i:0",
    "gatewaybrokeringtype:i:0",
    "use redirection server name:i:0",
    "rdgiskdcproxy:i:0",
    "kdcproxyname:s:",
]
