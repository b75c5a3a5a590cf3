"""The instance list is fast with a full account."""

from __future__ import annotations

import time

from playwright.sync_api import BrowserContext, Page, expect

from app.models import InstanceStatus
from tests.browser.support import ApiSession, shoot
from tests.support.database import Database
from tests.support.factories import make_instance

STATUSES = [
    InstanceStatus.ACTIVE,
    InstanceStatus.ACTIVE,
    InstanceStatus.STOPPED,
    InstanceStatus.ACTIVE,
    InstanceStatus.RESTARTING,
    InstanceStatus.FAILED,
    InstanceStatus.ACTIVE,
    InstanceStatus.TERMINATED,
]


def test_fifty_machines_load_in_under_two_seconds(
    page: Page, context: BrowserContext, database: Database
) -> None:
    api = ApiSession(context)
    for number in range(50):
        status = STATUSES[number % len(STATUSES)]
        make_instance(
            database,
            api.user_id,
            status=status,
            plan=("basic", "performance", "gpu")[number % 3],
            os_type=("windows", "linux")[number % 2],
            provider_id=f"perf-{number}",
            ip_address=f"203.0.113.{number + 1}",
            status_reason="create failed: Plan is not available"
            if status == InstanceStatus.FAILED
            else None,
        )

    started = time.monotonic()
    page.goto("/app/instances")
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_text("50 machines, ")).to_be_visible()
    elapsed = time.monotonic() - started
    print(f"50 machines listed in {elapsed:.2f}s")
    assert elapsed < 2.0, f"the list of 50 machines took {elapsed:.2f}s"

    timing = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    assert timing["domContentLoadedEventEnd"] < 2000
    shoot(page, "instances-fifty")
