from flask import Flask
from flask.testing import FlaskClient


def test_health_reports_each_dependency_with_latency(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "redis"}
    for check in body["checks"].values():
        assert check["status"] == "healthy"
        assert check["latency_ms"] >= 0


def test_health_is_503_when_redis_is_down(app: Flask) -> None:
    original = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = app.test_client().get("/api/health")
    finally:
        app.config["REDIS_URL"] = original
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["redis"]["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "healthy"
