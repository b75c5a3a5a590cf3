"""Every response says how long it took; slow requests are logged with their request id."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import Customer


@pytest.mark.parametrize("path", ["/api/plans", "/api/nothing-here", "/login", "/"])
def test_every_response_carries_x_process_time_and_server_timing(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert float(response.headers["X-Process-Time"]) >= 0
    metrics = {m.split(";")[0].strip(): m for m in response.headers["Server-Timing"].split(",")}
    assert set(metrics) == {"db", "app"}
    assert "dur=" in metrics["app"] and "dur=" in metrics["db"]


def test_server_timing_counts_the_queries_of_the_request(client: FlaskClient) -> None:
    customer = Customer(client)
    signed_in = customer.get("/api/auth/me").headers["Server-Timing"]
    assert 'desc="1 query"' in signed_in  # loading the session's user
    anonymous = client.get("/api/nothing-here").headers["Server-Timing"]
    assert 'desc="0 queries"' in anonymous


def test_a_slow_request_is_logged_with_its_request_id(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "SLOW_REQUEST_MS", 0)  # every request is "slow"
    with caplog.at_level(logging.WARNING, logger="app.timing"):
        response = client.get("/api/plans", headers={"X-Request-ID": "slow-1"})
    [record] = [r for r in caplog.records if r.name == "app.timing"]
    assert record.request_id == "slow-1" == response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert "GET /api/plans" in record.getMessage()


def test_a_quick_request_is_not_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.timing"):
        client.get("/api/plans")
    assert not [r for r in caplog.records if r.name == "app.timing"]
