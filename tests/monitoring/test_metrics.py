"""GET /metrics: what it counts, read with Prometheus' own parser, across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from devtools.stack.services import Redis
from tests.monitoring.scrape import names, parse, scrape, value
from tests.support.api import Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle
from tests.support.factories import make_instance

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = "nemordp_http_requests_total"
DURATION_COUNT = "nemordp_http_request_duration_seconds_count"


def test_requests_are_counted_by_route_template_and_status_never_by_raw_path(
    client: FlaskClient,
) -> None:
    route = "/api/instances/<int:instance_id>"
    before = scrape(client)
    assert client.get("/api/instances/987654").status_code == 401
    assert client.get("/no/such/page/987654").status_code == 404
    after = scrape(client)

    assert value(after, REQUESTS, method="GET", route=route, status="401") == (
        value(before, REQUESTS, method="GET", route=route, status="401") + 1
    )
    assert value(after, REQUESTS, method="GET", route="<unmatched>", status="404") == (
        value(before, REQUESTS, method="GET", route="<unmatched>", status="404") + 1
    )
    assert value(after, DURATION_COUNT, method="GET", route=route) == (
        value(before, DURATION_COUNT, method="GET", route=route) + 1
    )
    assert not any("987654" in label for _, labels in after for _, label in labels)


def test_jobs_by_kind_and_outcome_and_provisioning_failures_come_from_the_worker(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle
) -> None:
    jobs = "nemordp_jobs_finished_total"
    before = scrape(client)
    customer = Customer(client)
    done = wait_for_job(customer, order(customer)["job"]["id"])
    assert done["state"] == "succeeded"

    vultr.inject("create", "permanent", status=400, message="Plan is not available")
    contabo.inject("create", "permanent", status=400, message="product not available")
    ordered = order(customer, region="eu-central")
    assert wait_for_job(customer, ordered["job"]["id"], timeout=45)["state"] == "failed"
    provider = client.get(f"/api/instances/{ordered['instance']['id']}").get_json()["provider"]
    after = scrape(client)

    for outcome in ("succeeded", "failed"):
        assert value(after, jobs, kind="provision", outcome=outcome) == (
            value(before, jobs, kind="provision", outcome=outcome) + 1
        )
    duration = "nemordp_job_duration_seconds_count"
    assert value(after, duration, kind="provision", outcome="succeeded") == (
        value(before, duration, kind="provision", outcome="succeeded") + 1
    )
    failures = "nemordp_provisioning_failures_total"
    assert value(after, failures, provider=provider) == (
        value(before, failures, provider=provider) + 1
    )
    assert value(after, "nemordp_active_machines", provider="vultr", plan="basic") == 1


def test_active_machines_are_counted_from_the_database_at_scrape(
    client: FlaskClient, database: Database
) -> None:
    owner = Customer(client).id
    for status, provider, plan in [
        ("active", "vultr", "basic"),
        ("active", "vultr", "basic"),
        ("active", "contabo", "performance"),
        ("stopped", "vultr", "basic"),
        ("terminated", "contabo", "basic"),
    ]:
        make_instance(database, owner, status=status, provider=provider, plan=plan)
    samples = scrape(client)
    active = "nemordp_active_machines"
    assert value(samples, active, provider="vultr", plan="basic") == 2
    assert value(samples, active, provider="contabo", plan="performance") == 1
    # Every offer of the catalogue is there, at zero when nothing runs on it.
    assert (active, frozenset({("provider", "contabo"), ("plan", "basic")})) in samples
    assert value(samples, active, provider="contabo", plan="basic") == 0


def test_queue_lengths_are_read_from_the_broker(isolated_app: Flask) -> None:
    celery = isolated_app.extensions["celery"]
    for _ in range(3):  # nobody consumes this broker: the tasks wait
        celery.send_task("email.send_welcome", args=[1])
    celery.send_task("provisioning.create_machine", args=[1])
    samples = scrape(isolated_app.test_client())
    length = "nemordp_celery_queue_length"
    assert value(samples, length, queue="email") == 3
    assert value(samples, length, queue="provisioning") == 1
    assert value(samples, length, queue="billing") == 0


def test_a_source_that_is_down_is_reported_and_the_rest_still_served(
    isolated_app: Flask, private_redis: Redis
) -> None:
    private_redis.stop()
    samples = scrape(isolated_app.test_client())
    assert value(samples, "nemordp_scrape_source_up", source="broker") == 0
    assert value(samples, "nemordp_scrape_source_up", source="database") == 1
    assert "nemordp_celery_queue_length" not in names(samples)
    assert "nemordp_active_machines" in names(samples)


def _write_in_another_process(event_type: str, times: int) -> None:
    code = (
        "from app import metrics\n"
        f"metrics.webhook_events.labels({event_type!r}, 'processed').inc({times})\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_counters_written_by_other_processes_add_up(client: FlaskClient) -> None:
    events = "nemordp_webhook_events_total"
    labels = {"type": "invoice.paid", "outcome": "processed"}
    before = value(scrape(client), events, **labels)
    _write_in_another_process("invoice.paid", 3)
    _write_in_another_process("invoice.paid", 4)
    assert value(scrape(client), events, **labels) == before + 7


def test_one_process_without_a_multiprocess_directory_serves_its_own_metrics() -> None:
    code = (
        "from app import create_app\n"
        "from config import config_for\n"
        "client = create_app(config_for('test')).test_client()\n"
        "client.get('/api/support/faq')\n"
        "print(client.get('/metrics').get_data(as_text=True))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
    )
    samples = parse(run.stdout.decode())
    labels = {"method": "GET", "route": "/api/support/faq", "status": "200"}
    assert value(samples, REQUESTS, **labels) == 1
    assert "nemordp_active_machines" in names(samples)
