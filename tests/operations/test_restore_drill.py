"""The restore drill of docs/operations.md, end to end: a platform with paying customers
is backed up with pg_dump; one more customer orders after the backup; the platform is lost
and restored from the dump into a fresh database on a fresh Redis; the restored platform
serves its customers, and reconciliation destroys nothing: every machine at the providers is
either an instance of the restored database or kept and reported for an operator (the one
ordered after the backup)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import redis
from celery import Celery
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from app.models import Instance, OrphanMachine, ReconcileFinding
from devtools.stack.platform import Web
from devtools.stack.services import postgres_bin
from tests.conftest import ARTIFACTS
from tests.faults.stack import Stack
from tests.faults.web_customer import PASSWORD, WebCustomer
from tests.periodic.conftest import ago
from tests.support.emulators import free_port, wait_until
from tests.support.factories import label_of

OPS = "ops@nemordp.local"
LIVE = ("active", "stopped", "suspended")


def _ordered(customer: WebCustomer, **order: str) -> int:
    instance_id = customer.order_and_pay(**order)
    wait_until(lambda: customer.instance(instance_id)["status"] == "active", timeout=90)
    return instance_id


def _machines(stack: Stack) -> dict[str, set[str]]:
    return {name: {m["id"] for m in e.machines()} for name, e in stack.emulators.items()}


def _pg(stack: Stack, tool: str, *args: str) -> None:
    command = [str(postgres_bin() / tool), "-h", "127.0.0.1", "-p", str(stack.postgres.port)]
    subprocess.run([*command, "-U", "postgres", *args], check=True, capture_output=True)


def test_a_restored_backup_serves_its_customers_and_reconciliation_destroys_nothing(
    tmp_path: Path,
) -> None:
    with Stack.start(ARTIFACTS / "restore-drill") as stack:
        ada, bob = WebCustomer(stack.web.url), WebCustomer(stack.web.url)
        backed_up = [
            _ordered(ada, os_type="windows"),
            _ordered(ada, os_type="linux"),
            _ordered(bob, os_type="linux", plan="performance"),
        ]
        dump = tmp_path / "nemordp.dump"
        _pg(stack, "pg_dump", "--format=custom", "--file", str(dump), "nemordp")
        after_backup = _ordered(bob, os_type="windows")  # not in the dump
        with Session(stack.engine) as session:
            newest = session.get(Instance, after_backup)
            assert newest is not None
            newest_label, newest_machine = label_of(newest), newest.provider_id
        before = _machines(stack)
        assert sum(len(ids) for ids in before.values()) == 4

        # The host is lost: its processes and Redis with it. A fresh database gets the dump.
        for process in [stack.web, stack.beat, *stack.workers]:
            if process is not None:
                process.kill()
        redis.Redis.from_url(stack.redis.url).flushall()
        _pg(stack, "createdb", "nemordp_restored")
        _pg(
            stack,
            "pg_restore",
            "--exit-on-error",
            "--no-owner",
            "-d",
            "nemordp_restored",
            str(dump),
        )
        restored_url = stack.postgres.url.removesuffix("/nemordp") + "/nemordp_restored"
        stack.env = {**stack.env, "DATABASE_URL": restored_url}
        stack.web = Web(free_port(), stack.env, stack.log)
        stack.web.start()
        stack.workers = []
        stack.add_worker()

        # The restored platform knows its customers and their machines.
        for customer, theirs in ((ada, backed_up[:2]), (bob, backed_up[2:])):
            with httpx.Client(base_url=stack.web.url, timeout=30) as http:
                signed_in = http.post(
                    "/api/auth/login", json={"email": customer.email, "password": PASSWORD}
                )
                assert signed_in.status_code == 200, signed_in.text
                listed = http.get("/api/instances").json()["instances"]
            assert sorted(i["id"] for i in listed) == sorted(theirs)
            assert {i["status"] for i in listed} == {"active"}

        celery = Celery(broker=stack.redis.url, backend=stack.redis.url)
        restored = create_engine(restored_url)

        def reconcile() -> None:
            for provider in stack.emulators:
                celery.send_task(
                    "periodic.reconcile_provider",
                    args=[provider],
                    queue="periodic",
                    ignore_result=False,
                ).get(timeout=60)

        try:
            reconcile()
            assert _machines(stack) == before  # nothing destroyed
            with Session(restored) as session:
                owned = {
                    i.provider_id
                    for i in session.scalars(select(Instance).where(Instance.status.in_(LIVE)))
                }
                kept = {f.provider_id: f for f in session.scalars(select(ReconcileFinding))}
                assert set(session.scalars(select(Instance.id))) == set(backed_up)
            everything = set().union(*before.values())
            assert owned == everything - {newest_machine} and len(owned) == 3
            assert set(kept) == {newest_machine}
            assert kept[newest_machine].guard == "beyond_highest_id"
            assert kept[newest_machine].label == newest_label
            alert = wait_until(
                lambda: [m for m in stack.mailbox.messages if OPS in str(m["To"])], timeout=30
            )[0].get_content()
            assert newest_label in alert and "waits for an operator's decision" in alert

            # Hours later (past the grace period), still nothing is destroyed.
            with Session(restored) as session:
                session.execute(update(OrphanMachine).values(first_seen_at=ago(hours=7)))
                session.commit()
            reconcile()
            assert _machines(stack) == before

            # New orders continue after the newest label: no machine's label is given twice.
            late = WebCustomer(stack.web.url)
            assert late.place_order()["instance"]["id"] > after_backup
            late.close()
        finally:
            restored.dispose()
