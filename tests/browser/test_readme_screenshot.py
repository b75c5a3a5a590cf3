"""The instances page with a few machines, photographed for the README
(devtools/readme_screenshot.sh copies the picture to docs/screenshots/instances.png)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from app.models import InstanceStatus
from tests.browser.support import SCREENSHOTS, ApiSession
from tests.support.database import Database
from tests.support.factories import make_instance

MACHINES = [
    (InstanceStatus.ACTIVE, "performance", "windows", "us-east", "198.51.100.24"),
    (InstanceStatus.ACTIVE, "basic", "linux", "eu-central", "198.51.100.87"),
    (InstanceStatus.RESTARTING, "basic", "windows", "uk", "203.0.113.15"),
    (InstanceStatus.STOPPED, "basic", "windows", "us-west", "203.0.113.42"),
    (InstanceStatus.ACTIVE, "gpu", "windows", "us-east", "198.51.100.130"),
    (InstanceStatus.PROVISIONING, "performance", "linux", "asia", None),
]


def test_the_instances_page_for_the_readme(
    page: Page, context: BrowserContext, database: Database
) -> None:
    api = ApiSession(context)
    named = context.request.put(
        "/api/auth/profile", data={"full_name": "Ada Lovelace"}, headers={"X-CSRF-Token": api.csrf}
    )
    assert named.ok, named.text()
    for number, (status, plan, os_type, region, ip) in enumerate(MACHINES):
        make_instance(
            database,
            api.user_id,
            status=status,
            plan=plan,
            os_type=os_type,
            region=region,
            ip_address=ip,
            provider_id=f"readme-{number}",
            username="Administrator" if os_type == "windows" else "nemordp",
        )
    page.set_viewport_size({"width": 1280, "height": 560})
    page.goto("/app/instances")
    expect(page.locator("tbody tr")).to_have_count(len(MACHINES))
    expect(page.get_by_text(f"{len(MACHINES)} machines, 3 active.")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "readme-instances.png")
