"""The operator's commands: no SQL in any procedure."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Instance, Job, Role, User
from app.models.base import utcnow
from tests.admin.console import audited
from tests.support.api import PASSWORD, Customer
from tests.support.database import Database
from tests.support.factories import make_instance


def _run(app: Flask, *args: str, input: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result.exit_code, result.output  # stdout and stderr, as the operator sees them


def test_the_first_admin_is_created_with_a_password_from_stdin_and_signs_in(
    app: Flask, database: Database
) -> None:
    code, out = _run(
        app, "users", "create-admin", "root@example.com", "--password-stdin", input=f"{PASSWORD}\n"
    )
    assert code == 0, out
    user = database.scalar(select(User).where(User.email == "root@example.com"))
    assert user is not None and user.role == Role.ADMIN
    login = {"email": "root@example.com", "password": PASSWORD}
    assert app.test_client().post("/api/auth/login", json=login).status_code == 200
    [event] = audited(database, "admin_created")
    assert event["actor"] is None and event["via"] == "cli"

    again, out = _run(
        app, "users", "create-admin", "ROOT@example.com", "--password-stdin", input=f"{PASSWORD}\n"
    )
    assert again != 0 and "already exists" in out


def test_create_admin_asks_for_the_password_twice_and_refuses_a_short_one(
    app: Flask, database: Database
) -> None:
    code, out = _run(
        app, "users", "create-admin", "ops@example.com", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert code == 0, out
    code, out = _run(
        app, "users", "create-admin", "short@example.com", "--password-stdin", input="short\n"
    )
    assert code != 0 and "password" in out
    code, out = _run(
        app, "users", "create-admin", "not-an-address", "--password-stdin", input=f"{PASSWORD}\n"
    )
    assert code != 0 and "EMAIL" in out
    assert database.count(User) == 1


def test_promote_demote_and_list(app: Flask, client: object, database: Database) -> None:
    customer = Customer(app.test_client())
    code, out = _run(app, "users", "promote", customer.email, "--role", "staff")
    assert code == 0 and "is now staff" in out
    assert customer.get("/api/admin/customers").status_code == 200
    code, out = _run(app, "users", "list", "--role", "staff")
    assert code == 0 and customer.email in out
    code, out = _run(app, "users", "demote", customer.email)
    assert code == 0 and "is now customer" in out
    assert customer.get("/api/admin/customers").status_code == 403
    code, out = _run(app, "users", "promote", "nobody@example.com", "--role", "admin")
    assert code != 0 and "No account" in out
    assert [e["after"]["role"] for e in audited(database, "role_changed")] == ["staff", "customer"]


@pytest.mark.usefixtures("machine_jobs_held")
def test_suspend_and_unsuspend_from_the_command_line(app: Flask, database: Database) -> None:
    customer = Customer(app.test_client())
    instance = make_instance(database, customer.id)
    code, out = _run(app, "users", "suspend", customer.email, "--reason", "fraud review")
    assert code == 0 and f"machines stopping: {instance.id}" in out
    assert customer.get("/api/auth/me").status_code == 401
    code, out = _run(app, "users", "list")
    assert "suspended: fraud review" in out
    code, out = _run(app, "users", "suspend", customer.email, "--reason", "again")
    assert code != 0 and "already suspended" in out
    code, out = _run(app, "users", "unsuspend", customer.email)
    assert code == 0, out
    [event] = audited(database, "customer_suspended")
    assert event["actor"] is None and event["reason"] == "fraud review"


@pytest.mark.usefixtures("machine_jobs_held")
def test_instances_list_and_terminate(app: Flask, database: Database) -> None:
    customer = Customer(app.test_client())
    instance = make_instance(database, customer.id)
    code, out = _run(app, "instances", "list", "--status", "active")
    assert code == 0 and f"{instance.id}\tactive\t{customer.email}\tbasic" in out
    code, out = _run(app, "instances", "terminate", str(instance.id))
    assert code != 0 and "--reason" in out  # a reason is required
    code, out = _run(app, "instances", "terminate", str(instance.id), "--reason", "abuse")
    assert code == 0 and "terminate job" in out
    assert database.get(Instance, instance.id).status == "terminating"  # type: ignore[union-attr]
    code, out = _run(app, "instances", "terminate", "987654", "--reason", "abuse")
    assert code != 0 and "not found" in out


@pytest.mark.usefixtures("machine_jobs_held")
def test_jobs_retry(app: Flask, database: Database) -> None:
    customer = Customer(app.test_client())
    instance = make_instance(database, customer.id)
    failed = Job(
        kind="stop",
        instance_id=instance.id,
        user_id=customer.id,
        state="failed",
        finished_at=utcnow(),
        error="timed out",
        from_status="active",
        context={},
    )
    database.add(failed)
    code, out = _run(app, "jobs", "retry", str(failed.id))
    assert code == 0 and "retried as job" in out
    assert database.count(Job) == 2
    code, out = _run(app, "jobs", "retry", str(failed.id))
    assert code != 0 and "Only a failed or stuck job" in out
