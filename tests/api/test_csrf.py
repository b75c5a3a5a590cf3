from flask.testing import FlaskClient

from tests.support.api import Customer, error_of


def test_cookie_authenticated_write_without_csrf_token_is_403(client: FlaskClient) -> None:
    customer = Customer(client)
    response = client.put("/api/auth/profile", json={"full_name": "Mallory"})
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]
    forged = client.put(
        "/api/auth/profile", json={"full_name": "Mallory"}, headers={"X-CSRF-Token": "forged"}
    )
    assert forged.status_code == 403
    assert client.get("/api/auth/me").get_json()["full_name"] == ""
    assert customer.put("/api/auth/profile", json={"full_name": "Ada"}).status_code == 200
