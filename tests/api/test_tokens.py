import hashlib

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import ApiToken
from tests.support.api import Customer, error_of
from tests.support.database import Database


def test_a_token_is_shown_once_and_stored_only_as_a_digest(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    response = customer.post("/api/auth/tokens", json={"name": "ci"})
    assert response.status_code == 201
    raw = response.get_json()["token"]
    stored = database.scalar(select(ApiToken))
    assert stored is not None
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    listed = client.get("/api/auth/tokens").get_json()["tokens"]
    assert [t["name"] for t in listed] == ["ci"]
    assert raw not in str(listed)


def test_bearer_token_authenticates_without_csrf(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    customer = Customer(client)
    raw = customer.post("/api/auth/tokens", json={"name": "cli"}).get_json()["token"]
    program = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert program.get("/api/auth/me", headers=headers).get_json()["id"] == customer.id
    response = program.put("/api/auth/profile", headers=headers, json={"full_name": "Bot"})
    assert response.status_code == 200
    assert database.scalar(select(ApiToken.last_used_at)) is not None


def test_a_revoked_token_is_refused(client: FlaskClient, app: Flask) -> None:
    customer = Customer(client)
    created = customer.post("/api/auth/tokens", json={"name": "old"}).get_json()
    assert customer.delete(f"/api/auth/tokens/{created['id']}").status_code == 204
    response = app.test_client().get(
        "/api/auth/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert response.status_code == 401
    assert client.get("/api/auth/tokens").get_json()["tokens"] == []
    assert customer.delete(f"/api/auth/tokens/{created['id']}").status_code == 404


def test_a_customer_cannot_revoke_another_customers_token(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    owner = Customer(client)
    token_id = owner.post("/api/auth/tokens", json={"name": "mine"}).get_json()["id"]
    other = Customer(app.test_client())
    response = other.delete(f"/api/auth/tokens/{token_id}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert database.scalar(select(ApiToken.revoked_at)) is None


def test_garbage_bearer_tokens_are_401(client: FlaskClient) -> None:
    for value in ("Bearer nrdp_forged", "Bearer ", "Bearer x" * 50, "Basic abc"):
        assert client.get("/api/auth/me", headers={"Authorization": value}).status_code == 401


def test_token_name_is_required_and_bounded(client: FlaskClient, database: Database) -> None:
    customer = Customer(client)
    for body in ({}, {"name": ""}, {"name": "x" * 101}):
        response = customer.post("/api/auth/tokens", json=body)
        assert response.status_code == 422 and "name" in error_of(response)["fields"]
    assert database.scalar(select(ApiToken)) is None
