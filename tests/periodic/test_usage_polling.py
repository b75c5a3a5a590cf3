"""Usage polling, run for real against the Vultr emulator's bandwidth endpoint: the daily
series behind GET /api/instances/<id>/usage, faults, and running a round twice."""

from __future__ import annotations

from datetime import date

import httpx
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Instance, InstanceUsage
from tests.periodic.conftest import ago, run_task, running_instance, set_instance
from tests.support.api import Customer, error_of
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until


def _bandwidth(vultr: EmulatorHandle, machine_id: str) -> dict[str, dict[str, int]]:
    response = httpx.get(
        f"{vultr.base_url}/v2/instances/{machine_id}/bandwidth",
        headers={"Authorization": "Bearer test-vultr-key"},
    )
    days: dict[str, dict[str, int]] = response.json()["bandwidth"]
    return days


def _backdate(vultr: EmulatorHandle, machine_id: str, days: int) -> None:
    vultr.http.post(f"/machines/{machine_id}/backdate", json={"days": days}).raise_for_status()


def _stored(database: Database, instance_id: int) -> dict[str, tuple[int, int]]:
    rows = database.scalars(select(InstanceUsage).where(InstanceUsage.instance_id == instance_id))
    return {r.day.isoformat(): (r.inbound_bytes, r.outbound_bytes) for r in rows}


def test_polling_fills_the_daily_series_behind_the_usage_api(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle
) -> None:
    owner = Customer(client)
    first = running_instance(database, vultr, owner.id)
    second = running_instance(database, vultr, owner.id)
    _backdate(vultr, first.provider_id or "", 3)

    run_task(app, "periodic.poll_usage")  # fans out batches; wait for what they store
    wait_until(lambda: len(_stored(database, first.id)) == 4 and _stored(database, second.id))

    reported = _bandwidth(vultr, first.provider_id or "")
    assert _stored(database, first.id) == {
        day: (c["incoming_bytes"], c["outgoing_bytes"]) for day, c in reported.items()
    }
    total = sum(c["incoming_bytes"] + c["outgoing_bytes"] for c in reported.values())
    usage = client.get(f"/api/instances/{first.id}/usage").get_json()
    assert usage["data_transfer_gb"] == round(total / 1e9, 3)
    assert usage["status"] == "active" and "uptime_hours" in usage
    assert usage["traffic_reported"] is True
    assert [d["day"] for d in usage["series"]] == sorted(reported)
    today = date.today().isoformat()
    assert usage["series"][-1] == {
        "day": today,
        "inbound_gb": round(reported[today]["incoming_bytes"] / 1e9, 3),
        "outbound_gb": round(reported[today]["outgoing_bytes"] / 1e9, 3),
    }
    two_days = client.get(f"/api/instances/{first.id}/usage?days=2").get_json()["series"]
    assert [d["day"] for d in two_days] == sorted(reported)[-2:]
    instance = database.get(Instance, first.id)
    assert instance is not None and instance.traffic_seen_at is not None


def test_usage_days_are_validated_and_other_peoples_usage_is_hidden(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle
) -> None:
    owner = Customer(client)
    instance = running_instance(database, vultr, owner.id)
    for days in ("0", "366", "many"):
        response = client.get(f"/api/instances/{instance.id}/usage?days={days}")
        assert response.status_code == 422
        assert "days" in error_of(response)["fields"]
    assert client.get(f"/api/instances/{instance.id}/usage?days=365").status_code == 200
    stranger = Customer(app.test_client())
    assert stranger.get(f"/api/instances/{instance.id}/usage").status_code == 404


def test_a_machine_whose_provider_times_out_is_polled_at_the_next_round(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle
) -> None:
    owner = Customer(client)
    instances = [running_instance(database, vultr, owner.id) for _ in range(3)]
    ids = [i.id for i in instances]
    # Every attempt the client makes for the first machine times out.
    vultr.inject("bandwidth", "timeout", count=3)

    run_task(app, "periodic.poll_usage_batch", ids)

    assert [bool(_stored(database, i)) for i in ids] == [False, True, True]
    run_task(app, "periodic.poll_usage_batch", ids)
    assert all(_stored(database, i) for i in ids)


def test_a_second_round_with_the_same_figures_changes_nothing(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle
) -> None:
    owner = Customer(client)
    instance = running_instance(database, vultr, owner.id)
    run_task(app, "periodic.poll_usage_batch", [instance.id])
    seen_at = ago(hours=5)  # as if the traffic last grew five hours ago
    set_instance(database, instance.id, traffic_seen_at=seen_at)
    before = database.scalars(select(InstanceUsage).order_by(InstanceUsage.id))
    total = database.get(Instance, instance.id).data_transfer_gb  # type: ignore[union-attr]

    run_task(app, "periodic.poll_usage_batch", [instance.id])

    after = database.scalars(select(InstanceUsage).order_by(InstanceUsage.id))
    assert [(r.id, r.day, r.inbound_bytes, r.updated_at) for r in after] == [
        (r.id, r.day, r.inbound_bytes, r.updated_at) for r in before
    ]
    again = database.get(Instance, instance.id)
    assert again is not None
    assert again.data_transfer_gb == total and again.traffic_seen_at == seen_at
