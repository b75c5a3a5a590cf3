"""Every error is JSON {"error": {...}} with the right status and never internals."""

from flask.testing import FlaskClient

from app import create_app
from config import config_for
from tests.support.api import PASSWORD, error_of


def test_broken_json_is_400(client: FlaskClient) -> None:
    response = client.post(
        "/api/auth/signup", data='{"email": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    response = client.post("/api/auth/signup", data={"email": "a@example.com"})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_a_two_megabyte_body_is_413(client: FlaskClient) -> None:
    body = '{"email": "a@example.com", "password": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = client.post(
        "/api/auth/signup", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_unknown_route_is_404_and_wrong_method_405(client: FlaskClient) -> None:
    assert error_of(client.get("/api/nothing-here"))["code"] == "not_found"
    response = client.get("/api/auth/signup")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    generated = client.get("/api/nothing-here").headers["X-Request-ID"]
    assert len(generated) == 32
    echoed = client.get("/api/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    hostile = client.get("/api/health", headers={"X-Request-ID": "<script>"})
    assert hostile.headers["X-Request-ID"] != "<script>"


def test_an_unexpected_error_is_a_500_with_request_id_and_no_internals() -> None:
    app = create_app(config_for("test"))
    app.config["PROPAGATE_UNEXPECTED"] = False

    @app.get("/api/_explode")
    def explode() -> None:
        raise RuntimeError("database password is hunter2")

    response = app.test_client().get("/api/_explode")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_signup_body_with_nested_junk_is_422_not_500(client: FlaskClient) -> None:
    response = client.post("/api/auth/signup", json={"email": {"$gt": ""}, "password": [PASSWORD]})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"email", "password"}
