"""SSH keys added in the settings, and a machine reinstalled with another system behind a
dialog that says the disk is erased and wants the machine's name typed."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.browser_fixtures import BrowserLog
from tests.support.emulators import EmulatorHandle
from tests.support.ssh import public_key


def test_a_key_is_added_in_settings_and_a_reinstall_wants_the_name_typed(
    page: Page, context: BrowserContext, vultr: EmulatorHandle, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 422")  # the broken key, refused by the API
    api = ApiSession(context)
    ordered = api.order()
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    name = f"nemordp-{ordered['instance']['id']}"

    # Settings, Security: add a key; a broken one is refused by the field.
    page.goto("/app/settings/security")
    keys = page.get_by_role("region", name="SSH keys")
    keys.get_by_label("Key name").fill("laptop")
    keys.get_by_label("Public key").fill("ssh-rsa AAAA")
    keys.get_by_role("button", name="Add key").click()
    expect(keys.get_by_label("Public key")).to_have_attribute("aria-invalid", "true")
    keys.get_by_label("Public key").fill(public_key())
    keys.get_by_role("button", name="Add key").click()
    expect(keys.get_by_text("Key “laptop” added")).to_be_visible()
    expect(keys.get_by_role("row", name="laptop")).to_contain_text("SHA256:")
    check_accessibility(page)
    shoot(page, "settings-ssh-keys")

    # The machine: the dialog says plainly that the disk is erased, and wants the name.
    page.goto(f"/app/instances/{ordered['instance']['id']}")
    page.get_by_role("button", name="Reinstall…").click()
    dialog = page.get_by_role("dialog", name=f"Reinstall {name}?")
    expect(dialog).to_contain_text(f"Everything on the disk of {name} is erased")
    dialog.get_by_label("System").select_option("linux")
    dialog.get_by_label("laptop").check()
    confirm = dialog.get_by_role("button", name=f"Erase and reinstall {name}")
    expect(confirm).to_be_disabled()
    dialog.get_by_label(f"Type {name} to confirm").fill(name)
    expect(confirm).to_be_enabled()
    shoot(page, "reinstall-dialog")
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Reinstall finished")).to_be_visible(timeout=45_000)
    expect(page.locator(".facts").first).to_contain_text("Linux")
    assert vultr.machines()[0]["os"].startswith("Ubuntu")
