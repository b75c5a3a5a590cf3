"""Settings in four tabs: profile, billing, preferences that really save, and security —
password, two-factor sign-in, API tokens shown once, and deleting the account."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.accounts import totp_code
from tests.support.api import PASSWORD
from tests.support.browser_fixtures import BrowserLog


def test_the_tabs_follow_the_address_and_the_arrow_keys(
    page: Page, context: BrowserContext
) -> None:
    ApiSession(context)
    page.goto("/app/settings/security")
    tabs = page.get_by_role("tablist", name="Settings sections")
    expect(tabs.get_by_role("tab")).to_have_text(["Profile", "Billing", "Preferences", "Security"])
    security = tabs.get_by_role("tab", name="Security")
    expect(security).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Security")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Profile")).to_be_hidden()

    security.focus()
    page.keyboard.press("ArrowRight")  # wraps round to the first
    expect(tabs.get_by_role("tab", name="Profile")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/app/settings$"))
    page.keyboard.press("ArrowRight")
    expect(tabs.get_by_role("tab", name="Billing")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/app/settings/billing$"))
    expect(page.get_by_role("tabpanel", name="Billing")).to_contain_text("subscription")
    page.keyboard.press("End")
    expect(security).to_be_focused()
    page.keyboard.press("Home")
    expect(page).to_have_url(re.compile(r"/app/settings$"))
    # One tab stop for the whole list: Tab leaves it for the panel.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Full name")).to_be_focused()

    tabs.get_by_role("tab", name="Billing").click()
    page.get_by_role("link", name="Go to billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()


def test_the_profile_name_is_saved_and_shown(page: Page, context: BrowserContext) -> None:
    ApiSession(context)
    page.goto("/app/settings")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    expect(page.locator(".account-name")).to_have_text("Ada Lovelace")
    shoot(page, "settings-profile")
    page.reload()
    expect(page.get_by_label("Full name")).to_have_value("Ada Lovelace")


def test_preferences_are_saved_and_used_when_ordering(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    api = ApiSession(context)
    page.goto("/app/settings/preferences")
    notifications = page.get_by_role("switch", name="E-mail notifications")
    shutdown = page.get_by_role("switch", name="Shut down idle machines")
    idle = page.get_by_label("Idle time before shutdown (minutes)")
    expect(notifications).to_be_checked()
    expect(shutdown).not_to_be_checked()
    expect(idle).to_be_disabled()

    notifications.uncheck()
    shutdown.check()
    expect(idle).to_be_enabled()
    idle.fill("20")
    page.get_by_label("Default operating system for new machines").select_option("linux")
    page.get_by_role("button", name="Save preferences").click()
    expect(idle).to_have_accessible_description(re.compile(r"from 30 to 1440"))
    expect(idle).to_be_focused()
    idle.fill("90")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()
    shoot(page, "settings-preferences")
    assert api.get("/api/account/preferences") == {
        "email_notifications": False,
        "auto_shutdown": True,
        "idle_minutes": 90,
        "default_os": "linux",
    }

    page.reload()
    expect(notifications).not_to_be_checked()
    expect(shutdown).to_be_checked()
    expect(idle).to_have_value("90")
    page.keyboard.press("Tab")  # switches toggle from the keyboard too
    notifications.focus()
    page.keyboard.press("Space")
    expect(notifications).to_be_checked()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    page.get_by_role("link", name="New machine").click()
    expect(page.get_by_role("radio", name="Linux")).to_be_checked()


def test_the_password_is_changed_after_checking_the_current_one(
    page: Page,
    context: BrowserContext,
    browser_log: BrowserLog,
    playwright: Playwright,
    live_server: str,
) -> None:
    browser_log.allow(r"status of 403")
    api = ApiSession(context)
    page.goto("/app/settings/security")
    current = page.get_by_label("Current password")
    current.fill("not the password")
    page.get_by_label("New password", exact=True).fill("a new passphrase here")
    page.get_by_label("New password again").fill("a new passphrase here")
    page.get_by_role("button", name="Change password").click()
    expect(current).to_have_accessible_description("Wrong password.")
    expect(current).to_be_focused()

    current.fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()
    expect(current).to_have_value("")
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    # This session carries on; the password now is the new one.
    page.reload()
    expect(page.locator(".account-name")).to_have_text(api.email)
    elsewhere = playwright.request.new_context(base_url=live_server)
    try:
        login = elsewhere.post(
            "/api/auth/login", data={"email": api.email, "password": "a new passphrase here"}
        )
        assert login.status == 200
    finally:
        elsewhere.dispose()


def test_two_factor_sign_in_is_set_up_with_a_qr_code_and_turned_off(
    page: Page, context: BrowserContext
) -> None:
    ApiSession(context)
    page.goto("/app/settings/security")
    card = page.get_by_role("region", name="Two-factor sign-in")
    expect(card.get_by_text("Off", exact=True)).to_be_visible()
    card.get_by_role("button", name="Turn on two-factor sign-in").click()
    dialog = page.get_by_role("dialog", name="Turn on two-factor sign-in")
    expect(dialog.get_by_label("Password")).to_be_focused()
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_focused()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("svg => svg.querySelectorAll('path').length") >= 1
    box = qr.bounding_box()
    assert box and box["width"] > 100
    key = page.get_by_label("Key", exact=True).input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", key)
    shoot(page, "settings-two-factor-setup")
    page.get_by_label("Code from the app").fill(totp_code(key))
    page.get_by_role("button", name="Turn on", exact=True).click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_focused()
    expect(page.locator(".code-list code")).to_have_count(10)
    codes = page.locator(".code-list code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"\w{5}-\w{5}", code) for code in codes)
    page.get_by_role("button", name="Copy recovery codes").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == "\n".join(codes)
    shoot(page, "settings-recovery-codes")
    page.get_by_role("button", name="I have saved them").click()
    expect(card.get_by_text("On", exact=True)).to_be_visible()
    expect(card.get_by_text("10 recovery codes left.")).to_be_visible()
    expect(page.locator(".code-list")).to_have_count(0)

    # New recovery codes, then off; each asks for a second factor.
    card.get_by_role("button", name="New recovery codes…").click()
    dialog = page.get_by_role("dialog", name="New recovery codes")
    dialog.get_by_label("Code from your authenticator app").fill(codes[0])
    dialog.get_by_role("button", name="Make new codes").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_focused()
    fresh = page.locator(".code-list code").all_inner_texts()
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    page.get_by_role("button", name="I have saved them").click()

    card.get_by_role("button", name="Turn off…").click()
    dialog = page.get_by_role("dialog", name="Turn off two-factor sign-in?")
    check_accessibility(page, "dialog")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_label("Code from your authenticator app").fill(fresh[0])
    dialog.get_by_role("button", name="Turn off").click()
    expect(dialog).to_be_hidden()
    expect(card.get_by_text("Off", exact=True)).to_be_visible()


def test_an_api_token_is_shown_once_works_and_is_revoked(
    page: Page, context: BrowserContext, playwright: Playwright, live_server: str
) -> None:
    ApiSession(context)
    page.goto("/app/settings/security")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    page.get_by_label("Token name").fill("deploy script")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token “deploy script” created")).to_be_focused()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert len(secret) > 20
    row = page.locator("tbody tr", has_text="deploy script")
    expect(row).to_be_visible()
    expect(row.locator("code")).to_have_text(re.compile(r"…$"))
    page.get_by_role("button", name="Copy token").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    shoot(page, "settings-security")

    program = playwright.request.new_context(base_url=live_server)
    try:
        bearer = {"Authorization": f"Bearer {secret}"}
        assert program.get("/api/auth/me", headers=bearer).status == 200

        page.get_by_role("button", name="I have copied it").click()
        expect(page.get_by_label("Token", exact=True)).to_have_count(0)
        page.reload()
        expect(row).to_be_visible()
        assert secret not in page.content()

        page.get_by_role("button", name="Revoke token deploy script").click()
        dialog = page.get_by_role("dialog", name="Revoke “deploy script”?")
        dialog.get_by_role("button", name="Revoke token").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_text("You have no API tokens.")).to_be_visible()
        assert program.get("/api/auth/me", headers=bearer).status == 401
    finally:
        program.dispose()


def test_deleting_the_account_wants_the_word_typed_and_the_password(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of (401|403)")
    api = ApiSession(context)
    page.goto("/app/settings/security")
    page.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    confirm = dialog.get_by_role("button", name="Delete my account")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type DELETE to confirm").fill("delete")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    dialog.get_by_label("Password").fill("not the password")
    shoot(page, "settings-delete-dialog")
    confirm.click()
    expect(dialog.get_by_label("Password")).to_have_accessible_description("Wrong password.")

    dialog.get_by_label("Password").fill(PASSWORD)
    confirm.click()
    expect(page).to_have_url(re.compile(r"/login\?deleted=1$"))
    expect(page.get_by_text("Your account is being deleted")).to_be_visible()
    page.get_by_label("E-mail").fill(api.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login"))
