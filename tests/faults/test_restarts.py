"""Redis and PostgreSQL restarted under a running platform — private ones (see `stack`),
with the web app, a worker and beat as separate processes pointed at them. Nobody touches
the platform afterwards: it must recover by itself, and no job and no Stripe event may be
lost.

Redis keeps nothing on disk here, so its restart loses every queued task: the stuck-job
sweeper sends lost jobs again (jobs never handed to the broker after
STUCK_JOB_UNSENT_GRACE_SECONDS, lost ones past their deadline), and the invoice sync sends
again events whose task was lost (WEBHOOK_RESEND_AFTER_SECONDS). Timings are shortened for
the test in `stack.FAST_RECOVERY`.
"""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Instance, Job, JobState, WebhookEvent
from tests.faults import invariants
from tests.faults.stack import WEBHOOK_SECRET, Stack
from tests.faults.web_customer import WebCustomer
from tests.support.billing import signature
from tests.support.emulators import wait_until

SETTLE_SECONDS = 120


def _active(customer: WebCustomer, instance_id: int) -> bool:
    return customer.instance(instance_id)["status"] == "active"


def _building(customer: WebCustomer, instance_id: int) -> bool:
    return customer.instance(instance_id)["status"] in ("provisioning", "booting")


def _assert_recovered(stack: Stack, customer: WebCustomer, instances: list[int]) -> None:
    """Everything finished by itself, and as it should have."""
    _wait_settled(stack)
    for instance_id in instances:
        assert _active(customer, instance_id), customer.instance(instance_id)
    with Session(stack.engine) as session:
        ours = select(Job).join(Instance).where(Instance.id.in_(instances))
        states = {job.id: job.state for job in session.scalars(ours)}
    assert set(states.values()) == {JobState.SUCCEEDED}, states
    assert invariants.machines(stack.engine, stack.emulators) == []
    api = stack.stripe_api()
    wait_until(lambda: not invariants.charges(stack.engine, api), timeout=30, interval=1)


def _wait_settled(stack: Stack) -> None:
    """Wait for the platform to settle; if it does not, say what is left and how often
    its supervisor had to start a worker again."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while (problems := invariants.settled(stack.engine)) and time.monotonic() < deadline:
        time.sleep(1)
    restarts = {w.name: w.restarts for w in stack.workers}
    assert not problems, f"not settled in {SETTLE_SECONDS}s: {problems}; restarts: {restarts}"


def _work_in_flight(stack: Stack, customer: WebCustomer) -> tuple[list[int], int]:
    """A running machine being restarted (its provider call held for 2 s) and a paid order
    being built; returns the instances and the restart job."""
    first = customer.order_and_pay()
    wait_until(lambda: _active(customer, first), timeout=60)
    stack.vultr.inject("reboot", "slow_response", delay=2)
    restart = customer.post(f"/api/instances/{first}/restart").json()["job"]["id"]
    second = customer.order_and_pay()
    wait_until(lambda: _building(customer, second), timeout=60)
    return [first, second], restart


def test_redis_restarted_mid_run_loses_no_job_and_no_event(stack: Stack) -> None:
    customer = WebCustomer(stack.web.url)
    instances, restart = _work_in_flight(stack, customer)

    stack.redis.stop()
    try:
        # Ordered and paid while the broker is down: the web side stores the events and
        # answers Stripe; their tasks cannot be sent.
        third = customer.order_and_pay()
        wait_until(lambda: _events_of(stack, third), timeout=30)
        time.sleep(1)
        assert customer.instance(third)["status"] == "pending_payment"
    finally:
        stack.redis.start()

    _assert_recovered(stack, customer, [*instances, third])
    assert customer.job(restart)["state"] == "succeeded"


def test_postgres_restarted_mid_run_loses_no_job_and_no_event(stack: Stack) -> None:
    customer = WebCustomer(stack.web.url)
    instances, restart = _work_in_flight(stack, customer)
    late = _stored_event(stack)

    stack.postgres.stop()
    try:
        # Pages fail fast rather than hang; a webhook is refused with a 5xx, so Stripe
        # keeps it and delivers it again.
        assert customer.get("/api/instances").status_code >= 500
        assert _deliver(stack, late).status_code >= 500
        time.sleep(2)
    finally:
        stack.postgres.start()

    assert _deliver(stack, late).status_code == 200  # Stripe's next attempt
    _assert_recovered(stack, customer, instances)
    assert customer.job(restart)["state"] == "succeeded"


def _events_of(stack: Stack, instance_id: int) -> bool:
    """True once the paid-checkout event of this order is stored."""
    with Session(stack.engine) as session:
        events = session.scalars(
            select(WebhookEvent).where(WebhookEvent.type == "checkout.session.completed")
        )
        return any(
            e.payload["data"]["object"]["metadata"].get("instance_id") == str(instance_id)
            for e in events
        )


def _stored_event(stack: Stack) -> dict[str, object]:
    """A real event of this run with a new id: one Stripe has not delivered yet."""
    with Session(stack.engine) as session:
        row = session.scalars(
            select(WebhookEvent).where(WebhookEvent.type == "invoice.paid").limit(1)
        ).one()
        return {**row.payload, "id": f"evt_late_{time.time_ns()}", "created": int(time.time())}


def _deliver(stack: Stack, event: dict[str, object]) -> httpx.Response:
    payload = json.dumps(event).encode()
    return httpx.post(
        f"{stack.web.url}/api/billing/webhook",
        content=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature(payload, WEBHOOK_SECRET),
        },
        timeout=30,
    )
