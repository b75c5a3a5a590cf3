"""A small world of parties and objects for the hostile-input tests.

An owner with one active machine (with credentials and a snapshot), a job on it, a
subscription, an open support ticket, an API token and an SSH key; a stranger (another
customer), a staff member and an admin, each signed in through the API with their own
cookie jar; and an anonymous client.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.models import (
    ApiToken,
    Instance,
    Invoice,
    Job,
    Login,
    ReconcileFinding,
    Role,
    Snapshot,
    SnapshotStatus,
    Subscription,
    SupportTicket,
    TicketMessage,
    User,
)
from app.models.base import utcnow
from app.security import crypto
from app.security.passwords import hash_password
from app.services import logins
from tests.support.api import PASSWORD
from tests.support.database import Database
from tests.support.factories import make_instance
from tests.support.ssh import public_key

PARTIES = ("anonymous", "stranger", "staff", "admin", "owner")
MACHINE_PASSWORD = "Mach1ne!Pass#word77"
_numbers = itertools.count(1)


class Party:
    """One caller: a test client, signed in (with its CSRF token) unless anonymous."""

    def __init__(
        self, name: str, client: FlaskClient, user_id: int = 0, email: str = "", csrf: str = ""
    ) -> None:
        self.name = name
        self.client = client
        self.user_id = user_id
        self.email = email
        self.csrf = csrf

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        csrf: bool = True,
    ) -> TestResponse:
        sent = {**({"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}), **(headers or {})}
        response = self.client.open(
            path, method=method, json=body, query_string=query or None, headers=sent
        )
        answer = response.get_json(silent=True)
        if isinstance(answer, dict):
            # Signing in (or up) rotates the token, as the dashboard's pages take it up.
            self.csrf = answer.get("csrf_token", self.csrf)
        return response


@dataclass
class World:
    app: Flask
    parties: dict[str, Party]
    owner: Party
    instance_id: int
    job_id: int
    ticket_id: int
    token_id: int
    api_token: str
    # For the operator console: a second sign-in of the owner, an unpaid invoice, the
    # subscription, a machine reconciliation kept, and the plan of the owner's machine.
    login_id: int = 0
    invoice_id: int = 0
    subscription_id: int = 0
    finding_id: int = 0
    plan_id: int = 0
    ssh_key_id: int = 0
    snapshot_id: int = 0

    def path_values(self) -> dict[str, Any]:
        """What each path parameter of the URL map stands for in this world."""
        return {
            "instance_id": self.instance_id,
            "job_id": self.job_id,
            "ticket_id": self.ticket_id,
            "token_id": self.token_id,
            "user_id": self.owner.user_id,
            "login_id": self.login_id,
            "invoice_id": self.invoice_id,
            "subscription_id": self.subscription_id,
            "finding_id": self.finding_id,
            "plan_id": self.plan_id,
            "key_id": self.ssh_key_id,
            "snapshot_id": self.snapshot_id,
            "slug": "billing",
            "subpath": "instances",
            "filename": "css/app.css",
        }


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def sign_in(app: Flask, database: Database, name: str, role: str = Role.CUSTOMER) -> Party:
    """A new account, signed in as the dashboard is: a session cookie, and the CSRF token
    the page shell carries. (Sign-up and log-in themselves are routes under test; going
    around them keeps the password hashing out of every cell.)"""
    email = f"{name}{next(_numbers)}@example.com"
    user = User(email=email, password_hash=_password_hash(), role=role)
    database.add(user)
    with app.app_context():
        login_secret = logins.start(user, remember=False)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_secret
        session["_fresh"] = True
    shell = client.get("/app").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', shell)
    assert found, "the page shell carries no CSRF token"
    return Party(name, client, user.id, email, found.group(1))


def build_world(app: Flask, database: Database) -> World:
    parties = {"anonymous": Party("anonymous", app.test_client())}
    parties["owner"] = owner = sign_in(app, database, "owner")
    parties["stranger"] = sign_in(app, database, "stranger")
    parties["staff"] = sign_in(app, database, "staff", Role.STAFF)
    parties["admin"] = sign_in(app, database, "admin", Role.ADMIN)

    with app.app_context():
        sealed = crypto.encrypt(MACHINE_PASSWORD)
    instance = make_instance(database, owner.user_id, password_encrypted=sealed)
    now = utcnow()
    job = Job(
        kind="restart",
        instance_id=instance.id,
        user_id=owner.user_id,
        state="succeeded",
        from_status="active",
        started_at=now,
        finished_at=now,
        context={},
    )
    number = next(_numbers)
    subscription = Subscription(
        user_id=owner.user_id,
        instance_id=instance.id,
        plan_id=instance.plan_id,
        stripe_subscription_id=f"sub_world_{number}_{instance.id}",
        status="active",
        amount_cents=2900,
        currency="usd",
        current_period_start=now - timedelta(days=1),
        current_period_end=now + timedelta(days=29),
    )
    ticket = SupportTicket(user_id=owner.user_id, subject="Cannot connect", priority="medium")
    database.add(job, subscription, ticket)
    database.add(TicketMessage(ticket_id=ticket.id, author_id=owner.user_id, body="RDP times out."))
    invoice = Invoice(
        user_id=owner.user_id,
        stripe_invoice_id=f"in_world_{number}_{instance.id}",
        stripe_subscription_id=subscription.stripe_subscription_id,
        status="open",
        amount_due=2900,
        amount_paid=0,
        currency="usd",
        created=now,
    )
    finding = ReconcileFinding(
        provider="vultr",
        provider_id=f"kept-{number}",
        label=f"nemordp-testsuite-{instance.id + 1000}",
        instance_id=instance.id + 1000,
        reason="no such instance",
        guard="beyond_highest_id",
        detail="its instance id is above the database's highest",
    )
    snapshot = Snapshot(
        instance_id=instance.id,
        name="before the upgrade",
        provider_snapshot_id=f"snap-world-{number}",
        status=SnapshotStatus.AVAILABLE,
    )
    database.add(invoice, finding, snapshot)
    owner_user = database.get(User, owner.user_id)
    assert owner_user is not None
    with app.app_context():
        logins.start(owner_user, remember=True)  # another browser
    spare_login = database.scalar(
        select(Login.id).where(Login.user_id == owner.user_id).order_by(Login.id.desc())
    )
    created = owner.request("POST", "/api/auth/tokens", body={"name": "deploy"})
    assert created.status_code == 201, created.get_json()
    key = owner.request(
        "POST", "/api/account/ssh-keys", body={"name": "laptop", "public_key": public_key()}
    )
    assert key.status_code == 201, key.get_json()
    return World(
        app=app,
        parties=parties,
        owner=owner,
        instance_id=instance.id,
        job_id=job.id,
        ticket_id=ticket.id,
        token_id=created.get_json()["id"],
        api_token=created.get_json()["token"],
        login_id=spare_login,
        invoice_id=invoice.id,
        subscription_id=subscription.id,
        finding_id=finding.id,
        plan_id=instance.plan_id,
        ssh_key_id=key.get_json()["id"],
        snapshot_id=snapshot.id,
    )


def owner_state(database: Database, world: World) -> tuple[Any, ...]:
    """What a refused request must leave as it was: the owner's account and objects."""
    with database.session() as session:
        user = session.get(User, world.owner.user_id)
        instance = session.get(Instance, world.instance_id)
        ticket = session.get(SupportTicket, world.ticket_id)
        token = session.get(ApiToken, world.token_id)
        subscription = session.scalar(
            select(Subscription).where(Subscription.instance_id == world.instance_id)
        )
        assert user and instance and ticket and token and subscription
        messages = session.scalars(
            select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)
        )
        jobs = session.scalars(select(Job.id).where(Job.instance_id == instance.id))
        live_logins = session.scalars(
            select(Login.id).where(Login.user_id == user.id, Login.revoked_at.is_(None))
        )
        return (
            user.email,
            user.full_name,
            user.password_hash,
            tuple(live_logins),
            user.totp_secret_encrypted,
            user.deletion_requested_at,
            user.idle_minutes,
            instance.status,
            instance.plan_id,
            ticket.status,
            ticket.priority,
            tuple(messages),
            token.revoked_at,
            tuple(jobs),
            subscription.cancel_at_period_end,
        )
