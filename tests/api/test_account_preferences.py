"""Preferences and profile: validated, persisted, returned in /api/auth/me."""

from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import User
from tests.support.api import Customer, error_of
from tests.support.database import Database

DEFAULTS = {
    "email_notifications": True,
    "auto_shutdown": False,
    "idle_minutes": 120,
    "default_os": "windows",
}
CHOSEN = {
    "email_notifications": False,
    "auto_shutdown": True,
    "idle_minutes": 30,
    "default_os": "linux",
}


def test_a_new_account_has_the_default_preferences_everywhere(client: FlaskClient) -> None:
    Customer(client)
    assert client.get("/api/account/preferences").get_json() == DEFAULTS
    me = client.get("/api/auth/me").get_json()
    assert me["preferences"] == DEFAULTS and me["two_factor_enabled"] is False


def test_saved_preferences_are_persisted_and_shown_in_me(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    response = customer.put("/api/account/preferences", json=CHOSEN)
    assert response.status_code == 200 and response.get_json() == CHOSEN
    assert client.get("/api/auth/me").get_json()["preferences"] == CHOSEN
    assert client.get("/api/account/preferences").get_json() == CHOSEN
    user = database.scalar(select(User).where(User.id == customer.id))
    assert (user.idle_minutes, user.default_os, user.auto_shutdown) == (30, "linux", True)


def test_bad_preferences_are_422_per_field_and_change_nothing(client: FlaskClient) -> None:
    customer = Customer(client)
    cases = [
        ({**CHOSEN, "idle_minutes": 29}, "idle_minutes"),
        ({**CHOSEN, "idle_minutes": 1441}, "idle_minutes"),
        ({**CHOSEN, "idle_minutes": "soon"}, "idle_minutes"),
        ({**CHOSEN, "default_os": "beos"}, "default_os"),
        ({**CHOSEN, "email_notifications": "perhaps"}, "email_notifications"),
        ({k: v for k, v in CHOSEN.items() if k != "auto_shutdown"}, "auto_shutdown"),
        ({**CHOSEN, "theme": "dark"}, "theme"),
    ]
    for body, field in cases:
        response = customer.put("/api/account/preferences", json=body)
        assert response.status_code == 422, body
        assert field in error_of(response)["fields"], (body, error_of(response))
    assert client.get("/api/account/preferences").get_json() == DEFAULTS


def test_the_edges_of_the_idle_range_are_accepted(client: FlaskClient) -> None:
    customer = Customer(client)
    for minutes in (30, 1440):
        response = customer.put(
            "/api/account/preferences", json={**CHOSEN, "idle_minutes": minutes}
        )
        assert response.status_code == 200 and response.get_json()["idle_minutes"] == minutes


def test_the_profile_takes_a_name_and_some_preferences_but_not_the_address(
    client: FlaskClient,
) -> None:
    customer = Customer(client)
    response = customer.put(
        "/api/auth/profile", json={"full_name": " Ada ", "preferences": {"idle_minutes": 45}}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["full_name"] == "Ada"
    assert body["preferences"] == {**DEFAULTS, "idle_minutes": 45}
    assert client.get("/api/auth/profile").get_json() == body
    for bad, field in (
        ({"preferences": {"idle_minutes": 5}}, "preferences"),
        ({"email": "new@example.com"}, "email"),
    ):
        response = customer.put("/api/auth/profile", json=bad)
        assert response.status_code == 422 and field in error_of(response)["fields"], bad
    unchanged = customer.put("/api/auth/profile", json={})  # the seed's "Save Changes"
    assert unchanged.status_code == 200 and unchanged.get_json() == body
    assert client.get("/api/auth/me").get_json()["email"] == customer.email


def test_preferences_need_a_signed_in_caller(client: FlaskClient) -> None:
    assert client.get("/api/account/preferences").status_code == 401
    assert client.put("/api/account/preferences", json=CHOSEN).status_code == 401
