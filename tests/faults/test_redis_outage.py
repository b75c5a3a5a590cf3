"""Redis killed under a running platform (the private one of `stack`): the API keeps
answering within 2 s, refusing only what needs the queue, `/api/health` says so at once,
the workers and beat ride the outage out without being started again, and a standby beat
takes over from a killed one within 15 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job, WebhookEvent
from config import BaseConfig
from devtools.stack.platform import Beat
from tests.faults.stack import WEBHOOK_SECRET, Stack
from tests.faults.web_customer import WebCustomer
from tests.support.billing import signature
from tests.support.emulators import wait_until

ANSWER_WITHIN = 2.0
PROBE_WITHIN = 1.0
TAKEOVER_WITHIN = 15.0


@contextmanager
def redis_down(stack: Stack) -> Iterator[None]:
    stack.redis.stop()
    try:
        yield
    finally:
        stack.redis.start()


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _jobs_of(stack: Stack, instance_id: int) -> int:
    with Session(stack.engine) as session:
        return session.scalar(select(func.count()).where(Job.instance_id == instance_id)) or 0


def _webhook(stack: Stack, event_id: str) -> httpx.Response:
    """A signed event of a type we store and act on later (the task is all it needs)."""
    event = {
        "id": event_id,
        "object": "event",
        "type": "customer.created",
        "created": int(time.time()),
        "data": {"object": {"id": "cus_outage", "object": "customer"}},
    }
    payload = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature(payload, WEBHOOK_SECRET),
    }
    return httpx.post(
        f"{stack.web.url}/api/billing/webhook", content=payload, headers=headers, timeout=30
    )


def test_while_redis_is_down_requests_answer_within_two_seconds(stack: Stack) -> None:
    customer = WebCustomer(stack.web.url)
    machine = customer.order_and_pay()
    wait_until(lambda: customer.instance(machine)["status"] == "active", timeout=60)
    jobs_before = _jobs_of(stack, machine)
    event_id = f"evt_outage_{time.time_ns()}"

    with redis_down(stack):
        reads = {
            path: timed(lambda path=path: customer.get(path))  # type: ignore[misc]
            for path in (
                "/api/instances",
                f"/api/instances/{machine}",
                "/api/billing/invoices",
                "/api/plans",
                "/app/instances",
            )
        }
        restart, restart_took = timed(lambda: customer.post(f"/api/instances/{machine}/restart"))
        order, order_took = timed(
            lambda: customer.post(
                "/api/instances", {"plan": "basic", "os_type": "linux", "region": "us-east"}
            )
        )
        webhook, webhook_took = timed(lambda: _webhook(stack, event_id))
        after_restart = customer.instance(machine)["status"]
    took = {path: round(t, 3) for path, (_, t) in reads.items()}
    print(
        f"while Redis was down: {took}, restart {restart_took:.3f}s, order {order_took:.3f}s,"
        f" webhook {webhook_took:.3f}s"
    )

    for path, (response, took) in reads.items():
        assert response.status_code == 200, (path, response.text)
        assert took < ANSWER_WITHIN, (path, took)
    # The queue is needed: refused at once, and nothing kept that nobody would send.
    assert restart.status_code == 503, restart.text
    assert restart.json()["error"]["code"] == "service_unavailable"
    assert int(restart.headers["Retry-After"]) > 0
    assert restart_took < ANSWER_WITHIN, restart_took
    assert after_restart == "active"
    assert _jobs_of(stack, machine) == jobs_before
    # Ordering needs Stripe, not the queue; Stripe's event is stored and acted on later.
    assert order.status_code == 202, order.text
    assert order_took < ANSWER_WITHIN, order_took
    assert webhook.status_code == 200, webhook.text
    assert webhook_took < ANSWER_WITHIN, webhook_took
    with Session(stack.engine) as session:
        stored = session.scalar(
            select(WebhookEvent).where(WebhookEvent.stripe_event_id == event_id)
        )
        assert stored is not None
    # Once Redis is back, the event's task is sent again and runs.
    wait_until(lambda: _processed(stack, event_id), timeout=60, interval=0.5)
    assert customer.post(f"/api/instances/{machine}/restart").status_code == 202


def _processed(stack: Stack, event_id: str) -> bool:
    with Session(stack.engine) as session:
        row = session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == event_id))
        return row is not None and row.processed_at is not None


def test_health_says_unhealthy_naming_redis_within_two_seconds(stack: Stack) -> None:
    """Probed while Stripe keeps delivering events, as it does during an outage."""
    probes: list[tuple[float, int, dict[str, object], float]] = []
    with redis_down(stack), ThreadPoolExecutor(max_workers=12) as stripe:
        down_at = time.monotonic()
        for n in range(12):
            stripe.submit(_webhook, stack, f"evt_probe_{n}_{time.time_ns()}")
        while time.monotonic() - down_at < 4:
            response, took = timed(lambda: httpx.get(f"{stack.web.url}/api/health", timeout=10))
            probes.append((time.monotonic() - down_at, response.status_code, response.json(), took))
            time.sleep(0.2)

    print("health probes (s after Redis went, status, took):")
    print([(round(at, 2), status, round(took, 3)) for at, status, _, took in probes])
    assert max(took for *_, took in probes) < PROBE_WITHIN, probes
    first_unhealthy = next(at for at, status, *_ in probes if status == 503)
    assert first_unhealthy < 2, probes
    for at, status, body, _ in probes:
        if at >= 2:
            assert status == 503, (at, body)
        if status == 503:
            assert body["status"] == "unhealthy"
            assert body["checks"]["redis"]["status"] == "unhealthy"  # type: ignore[index]
    wait_until(
        lambda: httpx.get(f"{stack.web.url}/api/health", timeout=10).status_code == 200,
        timeout=30,
    )


def _last_sent(stack: Stack, entry: str = "sweep-stuck-jobs") -> str:
    """When beat last sent ``entry``, as redbeat keeps it in Redis ("" when not there)."""
    client = redis.Redis.from_url(stack.redis.url, socket_timeout=2)
    try:
        # redbeat's key: the prefix and the entry's name, as they are.
        meta = client.hget(f"{stack.env['BEAT_KEY_PREFIX']}{entry}", "meta")
    except redis.RedisError:
        return ""
    finally:
        client.close()
    return json.dumps(json.loads(meta)["last_run_at"]) if meta else ""


def test_workers_and_beat_ride_out_a_redis_outage_by_themselves(stack: Stack) -> None:
    assert stack.beat is not None
    processes = [*stack.workers, stack.beat]
    sent = _last_sent(stack)
    wait_until(lambda: _last_sent(stack) != sent, timeout=30, interval=0.2)  # all are up
    restarts = [p.restarts for p in processes]

    with redis_down(stack):
        time.sleep(6)  # longer than any client's timeout: each has noticed and is retrying

    time.sleep(3)  # a process that gave up has exited and been started again by now
    assert [p.restarts for p in processes] == restarts
    assert all(p.running for p in processes)
    for worker in stack.workers:
        wait_until(lambda worker=worker: _answers(stack, worker.name), timeout=30)  # type: ignore[misc]
    # Redis came back empty: beat put its schedule back and goes on sending.
    sent = _last_sent(stack)
    wait_until(lambda: _last_sent(stack) != sent, timeout=20, interval=0.2)


def _answers(stack: Stack, worker: str) -> bool:
    try:
        return bool(stack.celery.control.ping([worker], timeout=0.5))
    except (OSError, redis.RedisError):  # the test's own connection, left stale by the restart
        return False


def test_standby_beat_takes_over_within_fifteen_seconds(stack: Stack) -> None:
    """Both beats with the production lock timeout and loop interval."""
    assert stack.beat is not None
    env = {
        **stack.env,
        "BEAT_LOCK_TIMEOUT": str(BaseConfig.BEAT_LOCK_TIMEOUT),
        "BEAT_MAX_LOOP_INTERVAL": str(BaseConfig.BEAT_MAX_LOOP_INTERVAL),
    }
    stack.beat.kill()
    active, standby = Beat(env, stack.log), Beat(env, stack.log)
    try:
        active.start()
        sent = _last_sent(stack)
        wait_until(lambda: _last_sent(stack) != sent, timeout=30, interval=0.1)
        standby.start()
        time.sleep(3)  # the standby is up and waiting for the lock
        sent = _last_sent(stack)
        wait_until(lambda: _last_sent(stack) != sent, timeout=30, interval=0.05)
        active.kill()  # just after it sent, and so just after it renewed its lock
        killed_at, sent = time.monotonic(), _last_sent(stack)
        wait_until(lambda: _last_sent(stack) != sent, timeout=60, interval=0.1)
        took = time.monotonic() - killed_at
    finally:
        active.kill()
        standby.kill()
        stack.beat.start()
    print(f"standby beat took over in {took:.1f}s")
    assert took < TAKEOVER_WITHIN, took
