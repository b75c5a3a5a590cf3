"""Helpers for driving the API as a signed-in customer."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def unique_email() -> str:
    return f"customer{next(_counter)}@example.com"


class Customer:
    """A test client signed in through the API, sending its CSRF token on writes."""

    def __init__(self, client: FlaskClient, email: str | None = None) -> None:
        self.client = client
        self.email = email or unique_email()
        response = client.post("/api/auth/signup", json={"email": self.email, "password": PASSWORD})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        self.id: int = body["user"]["id"]
        self.csrf: str = body["csrf_token"]

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def post(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self.client.post(path, headers=self._headers(headers), **kw)

    def put(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self.client.put(path, headers=self._headers(headers), **kw)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self.client.delete(path, headers=self._headers(headers), **kw)


def error_of(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def wait_for_job(customer: Customer, job_id: int, timeout: float = 30.0) -> dict[str, Any]:
    """Poll a job over the API until it has finished; return its last state."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = customer.get(f"/api/jobs/{job_id}").get_json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {timeout}s: {job}")


def order(
    customer: Customer, plan: str = "basic", os_type: str = "windows", region: str = "us-east"
) -> dict[str, Any]:
    response = customer.post(
        "/api/instances", json={"plan": plan, "os_type": os_type, "region": region}
    )
    assert response.status_code == 202, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body
