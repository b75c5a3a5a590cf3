"""A full account's instance list: fifty machines in every state on one page. How fast it
loads is measured by bench/dashboard_load.py (BENCHMARKS.md), not here."""

from __future__ import annotations

from collections import Counter

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


def test_fifty_machines_in_every_state_are_listed_on_one_page(
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

    page.goto("/app/instances")
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_text("50 machines, ")).to_be_visible()
    badges = page.locator("tbody tr .badge")
    expected = Counter(STATUSES[number % len(STATUSES)] for number in range(50))
    for status, count in expected.items():
        expect(badges.and_(page.locator(f'[data-status="{status.value}"]'))).to_have_count(count)
    expect(page.get_by_text("create failed: Plan is not available").first).to_be_visible()
    shoot(page, "instances-fifty")
