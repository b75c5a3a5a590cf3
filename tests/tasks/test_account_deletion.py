"""Account deletion end to end: API → Redis → worker → provider emulator, then erasure."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import (
    ApiToken,
    AuditEvent,
    EmailToken,
    Instance,
    Job,
    RecoveryCode,
    SshKey,
    SupportTicket,
    TicketMessage,
    User,
)
from app.services.account_deletion import ERASED_PASSWORD_HASH
from tests.support.accounts import totp_code, wait_for_mail
from tests.support.api import PASSWORD, Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import make_instance
from tests.support.mailbox import Mailbox
from tests.support.ssh import public_key

TICKET = {"subject": "Slow desktop", "priority": "low", "message": "It lags, Ada Lovelace"}


def _user(database: Database, user_id: int) -> User:
    user = database.scalar(select(User).where(User.id == user_id))
    assert user is not None
    return user


def test_every_live_machine_gets_a_terminate_job_and_erasure_waits_for_them(
    client: FlaskClient, database: Database, worker: Any
) -> None:
    customer = Customer(client)
    # No provider machine behind these rows: their terminate jobs finish without HTTP.
    live = [
        make_instance(database, customer.id, status=status, provider=None, provider_id=None)
        for status in ("active", "stopped", "failed")
    ]
    gone = make_instance(database, customer.id, status="terminated")

    assert customer.post("/api/account/delete", json={"password": PASSWORD}).status_code == 202

    jobs = database.scalars(select(Job).where(Job.kind == "terminate"))
    assert sorted(j.instance_id for j in jobs) == [i.id for i in live]
    wait_until(lambda: _user(database, customer.id).erased_at is not None, timeout=30)
    statuses = {i.id: i.status for i in database.scalars(select(Instance))}
    assert statuses == {i.id: "terminated" for i in [*live, gone]}
    assert [j.state for j in database.scalars(select(Job))] == ["succeeded"] * 3
    erased = database.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
    assert erased.created_at >= max(j.finished_at for j in database.scalars(select(Job)))


def test_a_deleted_account_has_its_machines_destroyed_and_its_personal_data_erased(
    client: FlaskClient, app: Flask, database: Database, vultr: EmulatorHandle
) -> None:
    customer = Customer(client)
    customer.put("/api/auth/profile", json={"full_name": "Ada Lovelace"})
    ordered = order(customer)
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    assert len(vultr.machines()) == 1
    assert customer.post("/api/support/tickets", json=TICKET).status_code == 201
    customer.post("/api/auth/tokens", json={"name": "laptop of Ada"})
    key = {"name": "Ada's laptop", "public_key": public_key("ed25519", "ada@laptop")}
    assert customer.post("/api/account/ssh-keys", json=key).status_code == 201
    setup = customer.post("/api/account/2fa/setup", json={"password": PASSWORD}).get_json()
    customer.post("/api/account/2fa/confirm", json={"code": totp_code(setup["secret"])})

    assert customer.post("/api/account/delete", json={"password": PASSWORD}).status_code == 202

    wait_until(lambda: _user(database, customer.id).erased_at is not None, timeout=30)
    assert vultr.machines() == []
    instance = database.get(Instance, ordered["instance"]["id"])
    assert instance is not None and instance.status == "terminated"
    assert instance.password_encrypted is None
    user = _user(database, customer.id)
    assert user.email == f"erased-{customer.id}@erased.invalid"
    assert user.full_name == "" and user.password_hash == ERASED_PASSWORD_HASH
    assert user.totp_secret_encrypted is None and not user.is_active_account
    for model in (ApiToken, EmailToken, RecoveryCode, SshKey, SupportTicket, TicketMessage):
        assert database.count(model) == 0, model
    # The audit trail stays, pointing at the pseudonymous row.
    actions = database.scalars(select(AuditEvent.action).where(AuditEvent.user_id == customer.id))
    for kept in ("account.signup", "instance.ordered", "account.deletion_requested"):
        assert kept in actions
    erased = database.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
    assert erased.details == {"machines_left": []}
    login = {"email": customer.email, "password": PASSWORD}
    assert app.test_client().post("/api/auth/login", json=login).status_code == 401
    reset = app.test_client().post("/api/account/password/reset", json={"email": customer.email})
    assert reset.status_code == 202 and database.count(EmailToken) == 0


def test_a_machine_that_cannot_be_destroyed_is_left_to_ops_and_erasure_goes_on(
    client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    customer = Customer(client)
    ordered = order(customer)
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    vultr.inject("delete", "permanent", status=400, message="Server is locked")

    assert customer.post("/api/account/delete", json={"password": PASSWORD}).status_code == 202

    wait_until(lambda: _user(database, customer.id).erased_at is not None, timeout=30)
    erased = database.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
    assert erased.details == {"machines_left": [ordered["instance"]["id"]]}
    assert len(vultr.machines()) == 1
    alert = wait_for_mail(inbox, "ops@nemordp.local", "terminate job")
    assert "Server is locked" in alert.get_content()
