"""Suspending a customer with a running machine, through a real worker, the provider
emulator, the local Stripe and SMTP: the machine stops, every sign-in and token is refused,
the customer is e-mailed; lifting it starts the machine again and lets them sign in."""

from __future__ import annotations

from flask import Flask

from tests.admin.console import audited
from tests.support.accounts import wait_for_mail
from tests.support.api import PASSWORD, Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.mailbox import Mailbox

REASON = {"reason": "Chargeback opened on the card."}


def test_a_suspended_customer_is_stopped_and_shut_out_until_lifted(
    app: Flask,
    admin: Customer,
    customer: Customer,
    database: Database,
    vultr: EmulatorHandle,
    inbox: Mailbox,
) -> None:
    ordered = order(customer, os_type="linux")
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    instance_id = ordered["instance"]["id"]
    token = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    answer = admin.post(f"/api/admin/customers/{customer.id}/suspend", json=REASON)
    assert answer.status_code == 200, answer.get_json()
    [stop] = answer.get_json()["jobs"]
    assert stop["kind"] == "stop" and stop["instance_id"] == instance_id
    assert answer.get_json()["customer"]["suspension_reason"] == REASON["reason"]

    assert customer.get("/api/auth/me").status_code == 401  # this browser, signed out
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 401
    login = {"email": customer.email, "password": PASSWORD}
    assert app.test_client().post("/api/auth/login", json=login).status_code == 401
    mail = wait_for_mail(inbox, customer.email, "suspended")
    assert REASON["reason"] in mail.get_content()

    def machine() -> dict[str, object]:
        return admin.get(f"/api/admin/instances/{instance_id}").get_json()

    wait_until(lambda: machine()["status"] == "stopped")
    assert [m["power_status"] for m in vultr.machines()] == ["stopped"]
    [event] = audited(database, "customer_suspended")
    assert event["actor"] == admin.id and event["reason"] == REASON["reason"]
    assert event["before"]["suspended_at"] is None
    assert event["after"]["stopped_instances"] == [instance_id]
    assert admin.post(f"/api/admin/customers/{customer.id}/suspend", json=REASON).status_code == 409

    lifted = admin.post(f"/api/admin/customers/{customer.id}/unsuspend", json=REASON)
    assert lifted.status_code == 200
    assert [j["instance_id"] for j in lifted.get_json()["jobs"]] == [instance_id]
    wait_until(lambda: machine()["status"] == "active")
    assert app.test_client().post("/api/auth/login", json=login).status_code == 200
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 200
    wait_for_mail(inbox, customer.email, "active again")
    [event] = audited(database, "customer_unsuspended")
    assert event["after"] == {
        "suspended_at": None,
        "suspension_reason": None,
        "started_instances": [instance_id],
    }


def test_lifting_a_suspension_leaves_a_machine_its_owner_had_stopped(
    app: Flask, admin: Customer, customer: Customer, vultr: EmulatorHandle
) -> None:
    ordered = order(customer, os_type="linux")
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    instance_id = ordered["instance"]["id"]
    stop = customer.post(f"/api/instances/{instance_id}/stop").get_json()["job"]
    assert wait_for_job(customer, stop["id"])["state"] == "succeeded"

    suspended = admin.post(f"/api/admin/customers/{customer.id}/suspend", json=REASON)
    assert suspended.get_json()["jobs"] == []
    lifted = admin.post(f"/api/admin/customers/{customer.id}/unsuspend", json=REASON)
    assert lifted.get_json()["jobs"] == []
    assert admin.get(f"/api/admin/instances/{instance_id}").get_json()["status"] == "stopped"
