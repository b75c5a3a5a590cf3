from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database


def test_login_sets_a_hardened_session_cookie(client: FlaskClient, app) -> None:
    customer = Customer(client)
    client.post("/api/auth/logout", headers={"X-CSRF-Token": customer.csrf})
    fresh = app.test_client()
    response = fresh.post(
        "/api/auth/login", json={"email": customer.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == customer.id
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert fresh.get("/api/auth/me").get_json()["email"] == customer.email


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    client.post("/api/auth/logout", headers={"X-CSRF-Token": customer.csrf})
    wrong = client.post("/api/auth/login", json={"email": customer.email, "password": "x" * 12})
    unknown = client.post("/api/auth/login", json={"email": "no@example.com", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown)
    actions = database.scalars(select(AuditEvent.action))
    assert actions.count("auth.login_failed") == 2


def test_logout_ends_the_session(client: FlaskClient) -> None:
    customer = Customer(client)
    assert customer.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_me_without_credentials_is_a_json_401(client: FlaskClient) -> None:
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_profile_update_is_validated_and_persisted(client: FlaskClient) -> None:
    customer = Customer(client)
    assert customer.put("/api/auth/profile", json={"full_name": "Ada Lovelace"}).status_code == 200
    assert client.get("/api/auth/me").get_json()["full_name"] == "Ada Lovelace"
    too_long = customer.put("/api/auth/profile", json={"full_name": "x" * 101})
    assert too_long.status_code == 422 and "full_name" in error_of(too_long)["fields"]
    assert customer.put("/api/auth/profile", json={"email": "x@y.z"}).status_code == 422
    assert client.get("/api/auth/profile").get_json()["full_name"] == "Ada Lovelace"
