"""Signing in with a second factor, and the pages the account e-mails link to: password
reset and e-mail change confirmation."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.support import ApiSession, check_accessibility, mailed_link, new_email, shoot
from tests.support.accounts import totp_code, wait_for_mail
from tests.support.api import PASSWORD
from tests.support.browser_fixtures import BrowserLog
from tests.support.mailbox import Mailbox

NEW_PASSWORD = "a brand new passphrase"


def enable_two_factor(api: ApiSession) -> tuple[str, list[str]]:
    """Two-factor sign-in turned on over the API: its secret and recovery codes."""
    secret: str = api.post("/api/account/2fa/setup", {"password": PASSWORD})["secret"]
    codes: list[str] = api.post("/api/account/2fa/confirm", {"code": totp_code(secret)})[
        "recovery_codes"
    ]
    return secret, codes


def fill_login(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_logging_in_asks_for_the_second_factor_and_refuses_a_wrong_code(
    page: Page, context: BrowserContext, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 401")
    api = ApiSession(context)
    secret, _ = enable_two_factor(api)
    api.logout()

    page.goto("/login?next=%2Fapp%2Fsettings")
    fill_login(page, api.email)
    heading = page.get_by_role("heading", name="Two-factor sign-in", level=1)
    expect(heading).to_be_visible()
    code = page.get_by_label("Authentication code")
    expect(code).to_be_focused()
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    check_accessibility(page)
    shoot(page, "login-two-factor")

    right = totp_code(secret, steps_ahead=1)
    code.fill(f"{(int(right) + 500_000) % 1_000_000:06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong code.")
    expect(code).to_be_focused()

    code.fill(right)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/app/settings$"))
    expect(page.locator(".account-name")).to_have_text(api.email)


def test_a_recovery_code_signs_in_and_start_again_goes_back_to_the_password(
    page: Page, context: BrowserContext
) -> None:
    api = ApiSession(context)
    _, codes = enable_two_factor(api)
    api.logout()

    page.goto("/login")
    fill_login(page, api.email)
    page.get_by_role("button", name="Start again").click()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value(api.email)
    expect(page.get_by_label("Password")).to_be_focused()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Authentication code").fill(codes[0])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/app/instances$"))


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    page: Page, context: BrowserContext, inbox: Mailbox, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 40[01]")
    api = ApiSession(context)
    api.logout()

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/reset-password$"))
    expect(page.get_by_role("heading", name="Reset your password", level=1)).to_be_visible()
    page.get_by_label("E-mail").fill(api.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status").filter(has_text="reset link is on its way")).to_be_visible()
    shoot(page, "reset-password-request")

    link = mailed_link(wait_for_mail(inbox, api.email, "Reset your NemoRDP password"))
    assert link.startswith("/reset-password?token=")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password", level=1)).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill("something else entirely")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_label("New password again")).to_have_accessible_description(
        "The two passwords differ."
    )
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    check_accessibility(page)
    shoot(page, "reset-password-choose")
    page.get_by_role("button", name="Set new password").click()
    expect(page).to_have_url(re.compile(r"/login\?reset=1$"))
    expect(page.get_by_text("Your password is changed.")).to_be_visible()

    fill_login(page, api.email, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/app/instances$"))

    # The link works once.
    page.get_by_role("button", name="Log out").click()
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("yet another passphrase")
    page.get_by_label("New password again").fill("yet another passphrase")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()


def test_a_new_email_address_is_confirmed_through_the_mailed_link(
    page: Page, context: BrowserContext, inbox: Mailbox, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 403")
    ApiSession(context)
    address = new_email()
    page.goto("/app/settings")
    page.get_by_label("New e-mail address").fill(address)
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_label("Your password")).to_have_accessible_description(
        re.compile("Wrong password")
    )
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_text(f"It was sent to {address}")).to_be_visible()

    link = mailed_link(wait_for_mail(inbox, address, "Confirm your new NemoRDP e-mail address"))
    assert link.startswith("/confirm-email?token=")
    page.goto(link)
    expect(
        page.get_by_role("heading", name="Confirm your new e-mail address", level=1)
    ).to_be_visible()
    shoot(page, "confirm-email")
    page.get_by_role("button", name="Confirm new address").click()
    expect(page.get_by_role("heading", name="E-mail address changed")).to_be_focused()
    page.get_by_role("link", name="Go to your settings").click()
    expect(page.locator(".account-email")).to_have_text(address)
