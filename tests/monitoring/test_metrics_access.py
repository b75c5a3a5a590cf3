"""Who may scrape /metrics: a bearer token, allowed networks, closed in production."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import ProductionConfig
from tests.monitoring.conftest import settings
from tests.support.api import error_of

TOKEN = "scrape-token-5f0c2d9e"


def test_open_in_development_and_test_without_rules(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")


def test_closed_in_production_until_a_rule_is_set(app: Flask, client: FlaskClient) -> None:
    assert ProductionConfig.METRICS_OPEN_WITHOUT_RULES is False
    with settings(app, METRICS_OPEN_WITHOUT_RULES=False):
        response = client.get("/metrics")
        assert response.status_code == 403
        assert "METRICS_TOKEN" in error_of(response)["message"]
        with settings(app, METRICS_TOKEN=TOKEN):
            assert (
                client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
                == 200
            )


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token", 401),
        (f"Basic {TOKEN}", 401),
        (f"Bearer {TOKEN}", 200),
        (f"bearer  {TOKEN}", 200),
    ],
)
def test_a_token_must_be_sent_as_a_bearer_token(
    app: Flask, client: FlaskClient, authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with settings(app, METRICS_TOKEN=TOKEN):
        response = client.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert error_of(response)["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("networks", "address", "status"),
    [
        ("10.0.0.0/8", "127.0.0.1", 403),
        ("10.0.0.0/8", "10.20.30.40", 200),
        ("10.0.0.0/8, 127.0.0.0/8", "127.0.0.1", 200),
        ("2001:db8::/32", "2001:db8::7", 200),
        ("2001:db8::/32", "10.20.30.40", 403),
    ],
)
def test_networks_allow_listed_may_scrape_the_rest_may_not(
    app: Flask, client: FlaskClient, networks: str, address: str, status: int
) -> None:
    with settings(app, METRICS_ALLOWED_NETWORKS=networks):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == status


def test_with_both_rules_both_must_pass(app: Flask, client: FlaskClient) -> None:
    inside = {"REMOTE_ADDR": "10.1.1.1"}
    with settings(app, METRICS_TOKEN=TOKEN, METRICS_ALLOWED_NETWORKS="10.0.0.0/8"):
        assert client.get("/metrics", environ_base=inside).status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/metrics", headers=bearer).status_code == 403
        assert client.get("/metrics", headers=bearer, environ_base=inside).status_code == 200


def test_an_allow_list_that_does_not_parse_stops_the_app_from_starting(
    make_app: Callable[..., Flask],
) -> None:
    with pytest.raises(ValueError, match="METRICS_ALLOWED_NETWORKS"):
        make_app(METRICS_ALLOWED_NETWORKS="10.0.0.0/8, not-a-network")
