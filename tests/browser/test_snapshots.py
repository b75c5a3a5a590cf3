"""A machine's Snapshots section: the plan's quota shown, a snapshot taken, the
machine restored from it behind a dialog that wants the machine's name typed, the snapshot
deleted."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.emulators import EmulatorHandle


def test_a_snapshot_is_taken_restored_from_and_deleted_on_the_machines_page(
    page: Page, context: BrowserContext, vultr: EmulatorHandle
) -> None:
    api = ApiSession(context)
    ordered = api.order()
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    name = f"nemordp-{ordered['instance']['id']}"

    page.goto(f"/app/instances/{ordered['instance']['id']}")
    section = page.get_by_role("region", name="Snapshots")
    expect(section).to_contain_text("0 of 2 snapshots kept, included in your plan")
    section.get_by_label("Snapshot name").fill("clean install")
    section.get_by_role("button", name="Take snapshot").click()
    expect(page.get_by_role("heading", name="Snapshot finished")).to_be_visible(timeout=45_000)
    row = section.get_by_role("row", name="clean install")
    expect(row).to_contain_text("Available")
    expect(section).to_contain_text("1 of 2 snapshots kept")
    check_accessibility(page)
    shoot(page, "snapshots")

    row.get_by_role("button", name="Restore from clean install").click()
    dialog = page.get_by_role("dialog", name=f"Restore {name} from clean install?")
    expect(dialog).to_contain_text(f"Everything on the disk of {name} is overwritten")
    confirm = dialog.get_by_role("button", name=f"Overwrite and restore {name}")
    expect(confirm).to_be_disabled()
    dialog.get_by_label(f"Type {name} to confirm").fill(name)
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Restore finished")).to_be_visible(timeout=45_000)
    assert vultr.calls()["restore"] == 1

    row.get_by_role("button", name="Delete clean install").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete snapshot").click()
    expect(page.get_by_role("heading", name="Snapshot deletion finished")).to_be_visible(
        timeout=45_000
    )
    expect(section).to_contain_text("0 of 2 snapshots kept")
    assert vultr.snapshots() == []
