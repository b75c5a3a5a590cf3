"""A customer driving the platform over HTTP, as a browser or API client would."""

from __future__ import annotations

import itertools
import os
import ssl
import time
from typing import Any

import httpx

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


class WebCustomer:
    """Signed up through the API; sends its CSRF token on every write."""

    def __init__(
        self, base_url: str, timeout: float = 30, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, verify=verify)
        self.email = f"web{os.getpid()}-{next(_numbers)}-{time.time_ns()}@example.com"
        response = self.http.post(
            "/api/auth/signup", json={"email": self.email, "password": PASSWORD}
        )
        response.raise_for_status()
        self.csrf = response.json()["csrf_token"]

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path, headers={"X-CSRF-Token": self.csrf})

    def place_order(
        self, plan: str = "basic", os_type: str = "linux", region: str = "us-east"
    ) -> dict[str, Any]:
        """Order a machine; the unpaid instance and its payment page."""
        response = self.post("/api/instances", {"plan": plan, "os_type": os_type, "region": region})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def order_and_pay(self, **order: str) -> int:
        """Order and pay on Stripe's page; the instance id."""
        placed = self.place_order(**order)
        paid = httpx.post(
            f"{placed['checkout_url']}/pay", data={"card": "pm_card_visa"}, timeout=30
        )
        assert paid.status_code == 303, paid.text
        return int(placed["instance"]["id"])

    def instance(self, instance_id: int) -> dict[str, Any]:
        response = self.get(f"/api/instances/{instance_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def job(self, job_id: int) -> dict[str, Any]:
        response = self.get(f"/api/jobs/{job_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        self.http.close()
