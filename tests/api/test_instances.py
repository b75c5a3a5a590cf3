"""The instances API without a worker: validation, ownership, states and files."""

import os

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent, Instance, Job
from app.security import crypto
from tests.support.api import Customer, error_of
from tests.support.database import Database
from tests.support.factories import make_instance


def test_ordering_opens_a_payment_page_and_builds_nothing_until_paid(
    client: FlaskClient, database: Database, stripe_server: str
) -> None:
    customer = Customer(client)
    response = customer.post(
        "/api/instances", json={"plan": "basic", "os_type": "windows", "region": "eu-central"}
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["instance"]["status"] == "pending_payment"
    assert body["instance"]["plan"] == "basic" and body["instance"]["region"] == "eu-central"
    assert body["checkout_url"].startswith(f"{stripe_server}/checkout/cs_test_")
    assert body["instance"]["checkout_url"] == body["checkout_url"]
    assert database.count(Job) == 0
    page = httpx.get(body["checkout_url"])
    assert page.status_code == 200 and "Visa ending 4242" in page.text
    assert client.get(f"/api/instances/{body['instance']['id']}/jobs").get_json() == {"jobs": []}


def test_an_order_is_validated_against_the_catalogue(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    cases = [
        ({"plan": "platinum", "os_type": "windows", "region": "us-east"}, "plan"),
        ({"plan": "basic", "os_type": "beos", "region": "us-east"}, "os_type"),
        ({"plan": "basic", "os_type": "linux", "region": "mars"}, "region"),
        ({"plan": "gpu", "os_type": "linux", "region": "asia"}, "region"),  # not offered there
        ({"plan": "basic", "os_type": "linux", "region": ""}, "region"),  # absent: the default
    ]
    for body, field in cases:
        response = customer.post("/api/instances", json=body)
        assert response.status_code == 422, body
        assert field in error_of(response)["fields"], (body, error_of(response))
    assert database.count(Instance) == 0 and database.count(Job) == 0


def test_listing_shows_only_my_instances_newest_first_and_paginates(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    other = Customer(app.test_client())
    for _ in range(3):
        make_instance(database, customer.id)
    make_instance(database, other.id)
    page = client.get("/api/instances?per_page=2").get_json()
    assert page["total"] == 3 and len(page["instances"]) == 2
    ids = [i["id"] for i in page["instances"]]
    assert ids == sorted(ids, reverse=True)
    second = client.get("/api/instances?per_page=2&page=2").get_json()
    assert len(second["instances"]) == 1
    assert client.get("/api/instances?per_page=0").status_code == 422
    assert client.get("/api/instances?page=abc").status_code == 422


def test_someone_elses_instance_is_404_for_every_route(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    owner = Customer(client)
    instance = make_instance(database, owner.id)
    intruder = Customer(app.test_client())
    base = f"/api/instances/{instance.id}"
    for method, path in [
        ("get", base),
        ("get", f"{base}/rdp-file"),
        ("get", f"{base}/credentials"),
        ("get", f"{base}/usage"),
        ("post", f"{base}/restart"),
        ("post", f"{base}/stop"),
        ("post", f"{base}/start"),
        ("delete", base),
    ]:
        response = getattr(intruder, method)(path)
        assert response.status_code == 404, (method, path)
    assert database.count(Job) == 0


def test_a_non_integer_id_is_a_json_404(client: FlaskClient) -> None:
    Customer(client)
    response = client.get("/api/instances/abc")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_restarting_a_terminated_instance_is_409(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, status="terminated")
    for action in ("restart", "stop", "start"):
        response = customer.post(f"/api/instances/{instance.id}/{action}")
        assert response.status_code == 409
        assert "terminated" in error_of(response)["message"]
    assert customer.delete(f"/api/instances/{instance.id}").status_code == 409
    assert database.count(Job) == 0


def test_a_double_clicked_restart_gets_the_same_job(
    client: FlaskClient, database: Database, machine_jobs_held: None
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    first = customer.post(f"/api/instances/{instance.id}/restart")
    second = customer.post(f"/api/instances/{instance.id}/restart")
    assert first.status_code == second.status_code == 202
    assert first.get_json()["job"]["id"] == second.get_json()["job"]["id"]
    assert database.count(Job) == 1
    assert client.get(f"/api/instances/{instance.id}").get_json()["status"] == "restarting"
    # A different action while the restart runs is refused.
    assert customer.post(f"/api/instances/{instance.id}/stop").status_code == 409


def test_the_rdp_file_is_correct_and_holds_no_password(
    client: FlaskClient, database: Database, sealed_password: str
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, password_encrypted=sealed_password)
    response = client.get(f"/api/instances/{instance.id}/rdp-file")
    assert response.status_code == 200
    assert response.mimetype == "application/x-rdp"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="nemordp-{instance.id}.rdp"' in disposition
    text = response.get_data(as_text=True)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert f"full address:s:203.0.113.10{_port_suffix()}" in lines
    assert "username:s:Administrator" in lines
    assert "S3cret" not in text and "password" not in text.lower()


def test_the_rdp_file_brackets_an_ipv6_address(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, ip_address=None, ipv6_address="2001:db8::5")
    text = client.get(f"/api/instances/{instance.id}/rdp-file").get_data(as_text=True)
    assert f"full address:s:[2001:db8::5]{_port_suffix()}\r\n" in text


def test_the_rdp_file_is_only_for_an_active_instance(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, status="stopped")
    assert client.get(f"/api/instances/{instance.id}/rdp-file").status_code == 409


def test_credentials_are_decrypted_for_the_owner_and_audited(
    client: FlaskClient, database: Database, sealed_password: str
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, password_encrypted=sealed_password)
    stored = database.get(Instance, instance.id)
    assert stored is not None and "S3cret" not in (stored.password_encrypted or "")
    body = client.get(f"/api/instances/{instance.id}/credentials").get_json()
    assert body == {"username": "Administrator", "password": "S3cret!pass_word"}
    actions = database.scalars(select(AuditEvent.action))
    assert "instance.credentials_viewed" in actions


def test_usage_reports_the_seeds_fields(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id, data_transfer_gb=1.5)
    body = client.get(f"/api/instances/{instance.id}/usage").get_json()
    assert set(body) == {
        "uptime_hours",
        "status",
        "created_at",
        "last_accessed",
        "data_transfer_gb",
        "traffic_reported",
        "series",
    }
    assert body["status"] == "active" and body["data_transfer_gb"] == 1.5
    assert body["series"] == []  # never polled yet
    assert 0 <= body["uptime_hours"] < 0.1
    assert body["traffic_reported"] is True
    at_contabo = make_instance(database, customer.id, provider="contabo")
    usage = client.get(f"/api/instances/{at_contabo.id}/usage").get_json()
    assert usage["traffic_reported"] is False  # Contabo has no traffic endpoint


def test_the_plan_catalogue_is_public(client: FlaskClient) -> None:
    plans = client.get("/api/plans").get_json()["plans"]
    assert [p["code"] for p in plans] == ["basic", "performance", "gpu"]
    basic = plans[0]
    assert basic["price_cents"] == 2900 and "us-east" in basic["regions"]


@pytest.fixture()
def sealed_password(app: Flask) -> str:
    """A machine password encrypted as the platform stores it."""
    with app.app_context():
        return crypto.encrypt("S3cret!pass_word")


def _port_suffix() -> str:
    """The tests' emulated machines answer RDP on a high port, which the file must name."""
    port = int(os.environ["RDP_PORT"])
    return "" if port == 3389 else f":{port}"
