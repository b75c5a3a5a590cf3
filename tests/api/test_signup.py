from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEvent, User
from tests.support.api import PASSWORD, Customer, error_of
from tests.support.database import Database


def test_signup_creates_a_customer_and_signs_in(client: FlaskClient, database: Database) -> None:
    response = client.post(
        "/api/auth/signup", json={"email": "Ada@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "Ada@Example.com"
    assert body["user"]["role"] == "customer"
    assert body["user"]["preferences"] == {
        "email_notifications": True,
        "auto_shutdown": False,
        "idle_minutes": 120,
        "default_os": "windows",
    }
    assert "password" not in str(body)
    assert client.get("/api/auth/me").status_code == 200
    user = database.scalar(select(User))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert database.scalar(select(AuditEvent.action)) == "account.signup"


def test_signup_with_an_existing_email_in_other_case_is_409(
    client: FlaskClient, app: Flask, database: Database
) -> None:
    Customer(app.test_client(), "grace@example.com")
    response = client.post(
        "/api/auth/signup", json={"email": "GRACE@example.COM", "password": PASSWORD}
    )
    assert response.status_code == 409
    assert error_of(response)["fields"] == {"email": ["Taken."]}
    assert database.count(User) == 1


def test_signup_rejects_bad_fields_by_name_and_writes_nothing(
    client: FlaskClient, database: Database
) -> None:
    cases = [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "role": "admin"}, "role"),
    ]
    for body, field in cases:
        response = client.post("/api/auth/signup", json=body)
        assert response.status_code == 422, body
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert field in error["fields"], (body, error)
    assert database.count(User) == 0


def test_signup_with_a_json_array_body_is_422(client: FlaskClient, database: Database) -> None:
    response = client.post("/api/auth/signup", json=["a@example.com", PASSWORD])
    assert response.status_code == 422
    assert database.count(User) == 0
