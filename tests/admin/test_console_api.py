"""The operator console's API: who may call what (beyond the matrix in tests/security),
a 422 naming the field for bad input, and an audit record with actor, target, reason,
before and after for every action."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.models import (
    ApiToken,
    FindingDecision,
    Instance,
    Invoice,
    Job,
    Login,
    ReconcileFinding,
    Subscription,
    SupportTicket,
    User,
)
from app.models.base import utcnow
from tests.admin.console import audited, patch
from tests.support.api import Customer, error_of
from tests.support.database import Database
from tests.support.factories import make_instance

REASON = {"reason": "Asked on ticket 7."}

# Every action route, with a valid body, the fields it requires.
ACTIONS = [
    ("POST", "/api/admin/customers/{user}/suspend", {}),
    ("POST", "/api/admin/customers/{user}/unsuspend", {}),
    ("PUT", "/api/admin/customers/{user}/role", {"role": "staff"}),
    ("POST", "/api/admin/customers/{user}/logins/1/revoke", {}),
    ("POST", "/api/admin/customers/{user}/tokens/1/revoke", {}),
    ("POST", "/api/admin/instances/1/restart", {}),
    ("POST", "/api/admin/instances/1/stop", {}),
    ("POST", "/api/admin/instances/1/start", {}),
    ("POST", "/api/admin/instances/1/terminate", {}),
    ("POST", "/api/admin/jobs/1/retry", {}),
    ("POST", "/api/admin/jobs/1/abandon", {}),
    ("POST", "/api/admin/reconciliation/findings/1/adopt", {}),
    ("POST", "/api/admin/reconciliation/findings/1/destroy", {}),
    ("POST", "/api/admin/billing/invoices/1/refund", {"amount_cents": 100}),
    ("POST", "/api/admin/billing/subscriptions/1/cancel", {"when": "now"}),
    ("PATCH", "/api/admin/catalogue/plans/1", {"orderable": True}),
    ("POST", "/api/admin/catalogue/regions", {"region": "us-east", "open": True}),
]


def _send(who: Customer, method: str, path: str, body: dict[str, Any]) -> Any:
    return who.client.open(path, method=method, json=body, headers={"X-CSRF-Token": who.csrf})


@pytest.mark.parametrize(("method", "path", "valid"), ACTIONS)
def test_every_action_wants_a_reason_and_names_each_bad_field(
    admin: Customer, method: str, path: str, valid: dict[str, Any]
) -> None:
    path = path.format(user=admin.id)
    missing = error_of(_send(admin, method, path, valid))
    assert missing["code"] == "validation_error" and "reason" in missing["fields"]
    for bad in ("", "a\nb", "x" * 501, "\x00oops"):
        answer = _send(admin, method, path, {**valid, "reason": bad})
        assert answer.status_code == 422, bad
        assert list(error_of(answer)["fields"]) == ["reason"]
    unknown = _send(admin, method, path, {**valid, **REASON, "extra": 1})
    assert unknown.status_code == 422 and "extra" in error_of(unknown)["fields"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/admin/customers/{user}/role", {"role": "root"}, "role"),
        ("/api/admin/billing/invoices/1/refund", {"amount_cents": 0}, "amount_cents"),
        ("/api/admin/billing/subscriptions/1/cancel", {"when": "later"}, "when"),
        ("/api/admin/catalogue/plans/1", {"price_cents": 10}, "price_cents"),
        ("/api/admin/catalogue/plans/1", {"closed_regions": "us-east"}, "closed_regions"),
        ("/api/admin/catalogue/regions", {"region": "us-east", "open": "maybe"}, "open"),
    ],
)
def test_bad_values_are_422_naming_the_field(
    admin: Customer, path: str, body: dict[str, Any], field: str
) -> None:
    method = "PATCH" if "plans" in path else "PUT" if path.endswith("role") else "POST"
    answer = _send(admin, method, path.format(user=admin.id), {**body, **REASON})
    assert answer.status_code == 422
    assert field in error_of(answer)["fields"]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/admin/instances", {"status": "sleeping"}, "status"),
        ("/api/admin/instances", {"owner": "ada"}, "owner"),
        ("/api/admin/instances", {"idle_hours": 0}, "idle_hours"),
        ("/api/admin/jobs", {"state": "sad"}, "state"),
        ("/api/admin/customers", {"role": "root"}, "role"),
        ("/api/admin/audit", {"since": "yesterday"}, "since"),
        ("/api/admin/audit", {"since": "2026-01-01T00:00:00"}, "since"),  # no time zone
        ("/api/admin/audit/export", {"actor": "me"}, "actor"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    admin: Customer, path: str, query: dict[str, Any], field: str
) -> None:
    answer = admin.get(path, query_string=query)
    assert answer.status_code == 422
    assert field in error_of(answer)["fields"]


def test_staff_read_but_may_not_touch_money_destruction_or_roles(
    staff: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id)
    assert staff.get(f"/api/admin/customers/{customer.id}").status_code == 200
    assert staff.get(f"/api/admin/instances/{instance.id}/jobs").status_code == 200
    for path in (
        f"/api/admin/customers/{customer.id}/suspend",
        f"/api/admin/instances/{instance.id}/terminate",
        "/api/admin/billing/invoices/1/refund",
    ):
        refused = staff.post(path, json=REASON)
        assert refused.status_code == 403, path
        assert error_of(refused)["message"] == "Only an admin may do that."
    role = staff.put(f"/api/admin/customers/{customer.id}/role", json={"role": "admin", **REASON})
    assert role.status_code == 403
    assert staff.get("/api/admin/audit").status_code == 403
    assert customer.get("/api/admin/overview").status_code == 403
    assert database.count(Job) == 0
    assert audited(database, "role_changed") == []


def test_customers_are_found_by_email_name_or_id(
    app: Flask, admin: Customer, database: Database
) -> None:
    ada = Customer(app.test_client())
    with database.session() as session:
        session.execute(update(User).where(User.id == ada.id).values(full_name="Ada Lovelace"))
        session.commit()
    bob = Customer(app.test_client(), email="bob_smith@example.com")

    def found(**query: Any) -> list[int]:
        page = admin.get("/api/admin/customers", query_string=query).get_json()
        return [c["id"] for c in page["customers"]]

    assert found(q="lovelace") == [ada.id]
    assert found(q="BOB_SMITH") == [bob.id]
    assert found(q="b_s") == [bob.id]  # the underscore is a character, not a wildcard
    assert ada.id in found(q=str(ada.id))
    assert found(q="%") == []
    assert found(role="admin") == [admin.id]
    assert admin.get("/api/admin/customers?per_page=1").get_json()["total"] == 3


def test_one_customer_shows_everything_a_ticket_needs_and_never_credentials(
    app: Flask, admin: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id, password_encrypted="sealed-secret")
    now = utcnow()
    database.add(
        Subscription(
            user_id=customer.id,
            instance_id=instance.id,
            plan_id=instance.plan_id,
            stripe_subscription_id="sub_detail",
            status="active",
            amount_cents=2900,
            currency="usd",
        ),
        Invoice(
            user_id=customer.id,
            stripe_invoice_id="in_detail",
            status="paid",
            amount_due=2900,
            amount_paid=2900,
            currency="usd",
            created=now,
        ),
        SupportTicket(user_id=customer.id, subject="Help", priority="high"),
    )
    assert customer.post("/api/auth/tokens", json={"name": "ci"}).status_code == 201

    shown = admin.get(f"/api/admin/customers/{customer.id}").get_json()
    assert shown["customer"]["email"] == customer.email
    assert [m["id"] for m in shown["machines"]] == [instance.id]
    assert "sealed-secret" not in str(shown) and "password" not in str(shown["machines"])
    assert shown["subscriptions"][0]["stripe_subscription_id"] == "sub_detail"
    assert shown["invoices"][0]["amount_paid_cents"] == 2900
    assert shown["tickets"][0]["priority"] == "high"
    assert [t["name"] for t in shown["api_tokens"]] == ["ci"]
    assert len(shown["logins"]) == 1  # the sign-up's
    assert {e["action"] for e in shown["audit"]} >= {"account.signup", "token.created"}
    assert admin.get("/api/admin/customers/987654").status_code == 404


def test_revoking_a_sign_in_signs_that_browser_out_and_is_audited(
    app: Flask, staff: Customer, customer: Customer, database: Database
) -> None:
    login_id = database.scalar(select(Login.id).where(Login.user_id == customer.id))
    path = f"/api/admin/customers/{customer.id}/logins/{login_id}/revoke"
    assert staff.post(path, json=REASON).status_code == 200
    assert customer.get("/api/auth/me").status_code == 401
    assert staff.post(path, json=REASON).status_code == 409
    [event] = audited(database, "login_revoked")
    assert event["actor"] == staff.id and event["target_id"] == login_id
    assert event["customer_id"] == customer.id and event["reason"] == REASON["reason"]
    assert event["before"] == {"revoked_at": None} and event["after"]["revoked_at"]
    other = f"/api/admin/customers/{staff.id}/logins/{login_id}/revoke"
    assert staff.post(other, json=REASON).status_code == 404  # not that customer's


def test_a_revoked_token_no_longer_authenticates(
    app: Flask, staff: Customer, customer: Customer, database: Database
) -> None:
    created = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 200
    path = f"/api/admin/customers/{customer.id}/tokens/{created['id']}/revoke"
    assert staff.post(path, json=REASON).status_code == 200
    assert app.test_client().get("/api/auth/me", headers=bearer).status_code == 401
    [event] = audited(database, "token_revoked")
    assert event["before"]["revoked_at"] is None and event["after"]["name"] == "ci"
    assert database.scalar(select(ApiToken.revoked_at)) is not None


def test_roles_change_with_a_reason_and_the_last_admin_stays(
    admin: Customer, customer: Customer, database: Database
) -> None:
    path = f"/api/admin/customers/{customer.id}/role"
    answer = admin.put(path, json={"role": "staff", **REASON})
    assert answer.status_code == 200 and answer.get_json()["role"] == "staff"
    assert customer.get("/api/admin/customers").status_code == 200  # staff now
    assert admin.put(path, json={"role": "staff", **REASON}).status_code == 409
    last = admin.put(f"/api/admin/customers/{admin.id}/role", json={"role": "customer", **REASON})
    assert last.status_code == 409 and "last admin" in error_of(last)["message"]
    [event] = audited(database, "role_changed")
    assert event["before"] == {"role": "customer"} and event["after"] == {"role": "staff"}


@pytest.mark.usefixtures("machine_jobs_held")
@pytest.mark.parametrize(("action", "status"), [("restart", "restarting"), ("stop", "stopping")])
def test_staff_act_on_any_machine_with_a_reason_shown_and_audited(
    staff: Customer, customer: Customer, database: Database, action: str, status: str
) -> None:
    instance = make_instance(database, customer.id)
    answer = staff.post(f"/api/admin/instances/{instance.id}/{action}", json=REASON)
    assert answer.status_code == 202
    job = answer.get_json()["job"]
    assert job["kind"] == action and job["state"] == "queued"
    again = staff.post(f"/api/admin/instances/{instance.id}/{action}", json=REASON)
    assert again.get_json()["job"]["id"] == job["id"]  # a double click: the same job
    seen = customer.get(f"/api/instances/{instance.id}").get_json()
    assert seen["status"] == status and REASON["reason"] in seen["status_reason"]
    [event] = audited(database, f"instance_{action}")
    assert event["actor"] == staff.id and event["customer_id"] == customer.id
    assert event["before"] == {"status": "active"}
    assert event["after"] == {"status": status, "job_id": job["id"]}
    start = staff.post(f"/api/admin/instances/{instance.id}/start", json=REASON)
    assert start.status_code == 409


@pytest.mark.usefixtures("machine_jobs_held")
def test_an_admin_terminates_a_machine(
    admin: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id)
    answer = admin.post(f"/api/admin/instances/{instance.id}/terminate", json=REASON)
    assert answer.status_code == 202 and answer.get_json()["job"]["kind"] == "terminate"
    [event] = audited(database, "instance_terminate")
    assert event["after"]["status"] == "terminating"
    assert admin.post("/api/admin/instances/987654/terminate", json=REASON).status_code == 404


def test_machines_are_filtered(admin: Customer, customer: Customer, database: Database) -> None:
    old = utcnow() - timedelta(days=3)
    idle = make_instance(database, customer.id, provider_id="p1", last_accessed=old)
    busy = make_instance(database, customer.id, provider_id="p2", last_accessed=utcnow())
    stopped = make_instance(database, customer.id, status="stopped", provider_id="p3")
    broken = make_instance(database, admin.id, status="failed", plan="performance")
    database.add(
        Job(
            kind="restart",
            instance_id=busy.id,
            user_id=customer.id,
            state="failed",
            finished_at=utcnow(),
            error="provider said no",
            context={},
        )
    )

    def ids(**query: Any) -> set[int]:
        page = admin.get("/api/admin/instances", query_string=query).get_json()
        return {i["id"] for i in page["instances"]}

    assert ids() == {idle.id, busy.id, stopped.id, broken.id}
    assert ids(status="stopped") == {stopped.id}
    assert ids(owner=admin.id) == {broken.id}
    assert ids(plan="performance") == {broken.id}
    assert ids(idle_hours=24) == {idle.id}
    assert ids(failed=True) == {busy.id, broken.id}
    assert ids(region="eu-west") == set()
    listed = admin.get(f"/api/admin/instances?owner={customer.id}").get_json()["instances"]
    assert {i["owner_email"] for i in listed} == {customer.email}
    jobs = admin.get(f"/api/admin/instances/{busy.id}/jobs").get_json()["jobs"]
    assert jobs[0]["error"] == "provider said no"


@pytest.mark.usefixtures("machine_jobs_held")
def test_a_failed_job_is_retried_as_a_new_job_and_leaves_the_failed_list(
    staff: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id)
    failed = Job(
        kind="restart",
        instance_id=instance.id,
        user_id=customer.id,
        state="failed",
        finished_at=utcnow(),
        error="timed out",
        from_status="active",
        context={},
    )
    database.add(failed)
    listed = staff.get("/api/admin/jobs?state=failed").get_json()["jobs"]
    assert [j["id"] for j in listed] == [failed.id]

    answer = staff.post(f"/api/admin/jobs/{failed.id}/retry", json=REASON)
    assert answer.status_code == 202
    retried = answer.get_json()["job"]
    assert retried["id"] != failed.id and retried["kind"] == "restart"
    assert staff.get("/api/admin/jobs?state=failed").get_json()["jobs"] == []
    assert staff.post(f"/api/admin/jobs/{failed.id}/retry", json=REASON).status_code == 409
    [event] = audited(database, "job_retried")
    assert event["target_id"] == failed.id and event["after"]["retried_as"] == retried["id"]
    assert event["before"] == {"state": "failed", "error": "timed out"}


def test_a_failed_job_is_abandoned_by_an_admin(
    admin: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id, status="failed")
    failed = Job(
        kind="provision",
        instance_id=instance.id,
        user_id=customer.id,
        state="failed",
        finished_at=utcnow(),
        error="no capacity",
        context={},
    )
    database.add(failed)
    assert admin.post(f"/api/admin/jobs/{failed.id}/retry", json=REASON).status_code == 409
    answer = admin.post(f"/api/admin/jobs/{failed.id}/abandon", json=REASON)
    assert answer.status_code == 200 and answer.get_json()["job"]["handled"]["how"] == "abandoned"
    assert admin.get("/api/admin/jobs").get_json()["total"] == 0
    [event] = audited(database, "job_abandoned")
    assert event["before"]["error"] == "no capacity" and event["after"]["state"] == "failed"


def test_a_stuck_job_is_listed_and_abandoned(
    app: Flask, admin: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id, status="restarting")
    stuck = Job(
        kind="restart",
        instance_id=instance.id,
        user_id=customer.id,
        state="running",
        from_status="active",
        deadline_at=utcnow() - timedelta(hours=2),
        celery_task_id="lost",
        context={},
    )
    database.add(stuck)
    assert [j["id"] for j in admin.get("/api/admin/jobs?state=stuck").get_json()["jobs"]] == [
        stuck.id
    ]
    assert admin.post(f"/api/admin/jobs/{stuck.id}/abandon", json=REASON).status_code == 200
    job = database.get(Job, stuck.id)
    assert job is not None and job.state == "failed" and "abandoned" in (job.error or "")
    assert database.get(Instance, instance.id).status == "active"  # type: ignore[union-attr]
    assert admin.get("/api/admin/jobs?state=stuck").get_json()["jobs"] == []


def _finding(database: Database, number: int) -> ReconcileFinding:
    finding = ReconcileFinding(
        provider="vultr",
        provider_id=f"kept-{number}",
        label=f"nemordp-testsuite-{900 + number}",
        instance_id=900 + number,
        reason="no such instance",
        guard="beyond_highest_id",
        detail="newer than the database",
    )
    database.add(finding)
    return finding


def test_findings_are_adopted_or_destroyed_one_by_one(admin: Customer, database: Database) -> None:
    keep, destroy = _finding(database, 1), _finding(database, 2)
    listed = admin.get("/api/admin/reconciliation/findings").get_json()
    assert {f["id"] for f in listed["findings"]} == {keep.id, destroy.id}

    base = "/api/admin/reconciliation/findings"
    adopted = admin.post(f"{base}/{keep.id}/adopt", json=REASON).get_json()
    assert adopted["decision"] == FindingDecision.KEEP and adopted["resolved_at"]
    approved = admin.post(f"{base}/{destroy.id}/destroy", json=REASON).get_json()
    assert approved["decision"] == FindingDecision.DESTROY and approved["resolved_at"] is None
    assert admin.post(f"{base}/{keep.id}/destroy", json=REASON).status_code == 409
    open_now = admin.get(base).get_json()["findings"]
    assert [f["id"] for f in open_now] == [destroy.id]  # awaiting the next pass
    assert admin.get(f"{base}?open=false").get_json()["total"] == 2
    assert [e["target_id"] for e in audited(database, "finding_adopted")] == [keep.id]
    [event] = audited(database, "finding_destroy_approved")
    assert event["before"] == {"decision": None, "resolution": None}
    assert event["after"]["provider_id"] == "kept-2"


@pytest.mark.usefixtures("machine_jobs_held")
def test_an_admin_cancels_a_subscription_at_period_end_or_now(
    admin: Customer, customer: Customer, database: Database
) -> None:
    rows = []
    for number in (1, 2):
        instance = make_instance(database, customer.id, provider_id=f"p{number}")
        subscription = Subscription(
            user_id=customer.id,
            instance_id=instance.id,
            plan_id=instance.plan_id,
            stripe_subscription_id=f"sub_cancel_{number}",
            status="active",
            amount_cents=2900,
            currency="usd",
        )
        database.add(subscription)
        rows.append((instance, subscription))
    base = "/api/admin/billing/subscriptions"
    later = admin.post(f"{base}/{rows[0][1].id}/cancel", json={"when": "period_end", **REASON})
    assert later.status_code == 202 and later.get_json()["job"]["kind"] == "cancel_subscription"
    now = admin.post(f"{base}/{rows[1][1].id}/cancel", json={"when": "now", **REASON})
    assert now.status_code == 202 and now.get_json()["job"]["kind"] == "terminate"
    assert database.get(Instance, rows[1][0].id).status == "terminating"  # type: ignore[union-attr]
    events = audited(database, "subscription_cancelled")
    assert [e["after"]["when"] for e in events] == ["period_end", "now"]
    assert events[0]["before"] == {"status": "active", "cancel_at_period_end": False}


def test_dunning_lists_failed_payments_and_when_machines_are_suspended(
    staff: Customer, customer: Customer, database: Database
) -> None:
    instance = make_instance(database, customer.id)
    since = utcnow() - timedelta(days=1)
    database.add(
        Subscription(
            user_id=customer.id,
            instance_id=instance.id,
            plan_id=instance.plan_id,
            stripe_subscription_id="sub_late",
            status="past_due",
            amount_cents=2900,
            currency="usd",
            past_due_since=since,
        ),
        Invoice(
            user_id=customer.id,
            stripe_invoice_id="in_late",
            status="open",
            amount_due=2900,
            amount_paid=0,
            currency="usd",
            created=since,
        ),
    )
    shown = staff.get("/api/admin/billing/dunning").get_json()
    [late] = shown["subscriptions"]
    assert late["customer_email"] == customer.email and late["suspended"] is False
    assert late["suspends_at"].startswith((since + timedelta(days=3)).strftime("%Y-%m-%dT%H"))
    assert [i["id"] for i in shown["invoices"]] == ["in_late"]


@pytest.mark.usefixtures("catalogue_restored")
def test_a_closed_plan_or_region_takes_no_new_orders(
    app: Flask, admin: Customer, customer: Customer, database: Database
) -> None:
    catalogue = admin.get("/api/admin/catalogue").get_json()
    assert "existing subscriptions keep" in catalogue["note"]
    basic = next(p["plan"] for p in catalogue["plans"] if p["plan"]["code"] == "basic")

    closed = patch(
        admin, f"/api/admin/catalogue/plans/{basic['id']}", {"orderable": False, **REASON}
    )
    assert closed.status_code == 200 and closed.get_json()["orderable"] is False
    public = {p["code"] for p in customer.get("/api/plans").get_json()["plans"]}
    assert "basic" not in public
    refused = customer.post("/api/instances", json={"plan": "basic", "os_type": "linux"})
    assert refused.status_code == 422 and "plan" in error_of(refused)["fields"]
    patch(admin, f"/api/admin/catalogue/plans/{basic['id']}", {"orderable": True, **REASON})

    region = admin.post(
        "/api/admin/catalogue/regions", json={"region": "us-east", "open": False, **REASON}
    )
    assert region.status_code == 200
    plans = customer.get("/api/plans").get_json()["plans"]
    assert all("us-east" not in p["regions"] for p in plans)
    refused = customer.post(
        "/api/instances", json={"plan": "basic", "os_type": "linux", "region": "us-east"}
    )
    assert refused.status_code == 422 and "region" in error_of(refused)["fields"]
    events = audited(database, "plan_changed")
    assert events[0]["before"]["orderable"] is True and events[0]["after"]["orderable"] is False
    assert "us-east" in events[-1]["after"]["closed_regions"]
    unknown = patch(
        admin, f"/api/admin/catalogue/plans/{basic['id']}", {"closed_regions": ["moon"], **REASON}
    )
    assert unknown.status_code == 422 and "closed_regions" in error_of(unknown)["fields"]


def test_the_overview_counts_from_our_tables(
    admin: Customer, customer: Customer, database: Database
) -> None:
    delivered = utcnow() - timedelta(days=10)
    instance = make_instance(database, customer.id, delivered_at=delivered)
    make_instance(database, customer.id, status="stopped", provider="contabo", provider_id="c")
    database.add(
        Subscription(
            user_id=customer.id,
            instance_id=instance.id,
            plan_id=instance.plan_id,
            stripe_subscription_id="sub_mrr",
            status="active",
            amount_cents=2900,
            currency="usd",
        ),
        Invoice(
            user_id=customer.id,
            stripe_invoice_id="in_mrr",
            status="paid",
            amount_due=2900,
            amount_paid=2900,
            amount_refunded=900,
            currency="usd",
            created=delivered,
        ),
        SupportTicket(user_id=customer.id, subject="Slow", priority="urgent"),
    )
    shown = admin.get("/api/admin/overview").get_json()
    assert shown["customers"]["total"] == 1  # the admin is no customer
    assert shown["machines"]["by_status"] == {"active": 1, "stopped": 1}
    assert shown["machines"]["by_provider"] == {"vultr": 1, "contabo": 1}
    assert shown["mrr"] == [{"currency": "usd", "amount_cents": 2900, "subscriptions": 1}]
    assert shown["last_24h"]["orders"] == 2
    assert shown["open_tickets"] == {"urgent": 1}
    assert set(shown["queues"]) >= {"provisioning", "billing", "email"}
    assert "stripe" in shown["health"]["checks"]
    series = shown["series"]
    assert len(series) == 90
    day = next(d for d in series if d["day"] == delivered.date().isoformat())
    assert day["revenue_cents"] == 2000 and day["active_machines"] == 1
    assert series[-1]["active_machines"] == 1


def test_the_audit_log_filters_and_exports_csv(
    admin: Customer, staff: Customer, customer: Customer, database: Database
) -> None:
    login_id = database.scalar(select(Login.id).where(Login.user_id == customer.id))
    staff.post(
        f"/api/admin/customers/{customer.id}/logins/{login_id}/revoke",
        json={"reason": '=HYPERLINK("x")'},
    )
    admin.put(f"/api/admin/customers/{customer.id}/role", json={"role": "staff", **REASON})

    def actions(**query: Any) -> list[str]:
        page = admin.get("/api/admin/audit", query_string=query).get_json()
        return [e["action"] for e in page["events"]]

    assert actions(action="admin.*") == ["admin.role_changed", "admin.login_revoked"]
    assert actions(actor=staff.id, action="admin.*") == ["admin.login_revoked"]
    assert actions(target_type="login", target_id=str(login_id)) == ["admin.login_revoked"]
    assert "account.signup" in actions(customer=customer.id)
    assert actions(action="admin.*", since=(utcnow() + timedelta(minutes=1)).isoformat()) == []
    assert actions(action="admin%") == []  # no wildcard but the trailing *

    export = admin.get("/api/admin/audit/export?action=admin.*")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["admin.role_changed", "admin.login_revoked"]
    assert rows[0]["before"] == '{"role": "customer"}' and rows[0]["actor_id"] == str(admin.id)
    assert rows[1]["reason"] == '\'=HYPERLINK("x")'  # never run as a formula
