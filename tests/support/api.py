"""Helpers for driving the API as a signed-in customer."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = customer.get(f"/api/jobs/{job_id}").get_json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {timeout}s: {job}")


def place_order(
    customer: Customer, plan: str = "basic", os_type: str = "windows", region: str = "us-east"
) -> dict[str, Any]:
    """Order a machine; the answer holds the unpaid instance and its payment page."""
    response = customer.post(
        "/api/instances", json={"plan": plan, "os_type": os_type, "region": region}
    )
    assert response.status_code == 202, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def pay(checkout_url: str, card: str = "pm_card_visa") -> httpx.Response:
    """Pay on the (local) Stripe payment page, as the customer's browser would."""
    return httpx.post(f"{checkout_url}/pay", data={"card": card}, follow_redirects=False)


def wait_for_instance_job(
    customer: Customer, instance_id: int, kind: str, timeout: float = 30.0
) -> dict[str, Any]:
    """The newest job of that kind on the instance, once one exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = customer.get(f"/api/instances/{instance_id}/jobs").get_json()["jobs"]
        found = [job for job in listed if job["kind"] == kind]
        if found:
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"no {kind} job on instance {instance_id} within {timeout}s")


def order(
    customer: Customer, plan: str = "basic", os_type: str = "windows", region: str = "us-east"
) -> dict[str, Any]:
    """Order and pay; returns the instance and the provisioning job the payment started."""
    body = place_order(customer, plan, os_type, region)
    assert pay(body["checkout_url"]).status_code == 303
    instance_id = body["instance"]["id"]
    job = wait_for_instance_job(customer, instance_id, "provision")
    return {"instance": customer.get(f"/api/instances/{instance_id}").get_json(), "job": job}
