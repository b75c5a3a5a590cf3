"""Settings: the profile and API tokens, whose secret is shown once."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.browser.support import ApiSession, shoot


def test_the_profile_name_is_saved_and_shown(page: Page, context: BrowserContext) -> None:
    ApiSession(context)
    page.goto("/app/settings")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    expect(page.locator(".account-name")).to_have_text("Ada Lovelace")
    page.reload()
    expect(page.get_by_label("Full name")).to_have_value("Ada Lovelace")


def test_an_api_token_is_shown_once_works_and_is_revoked(
    page: Page, context: BrowserContext, playwright: Playwright, live_server: str
) -> None:
    ApiSession(context)
    page.goto("/app/settings")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    page.get_by_label("Token name").fill("deploy script")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token “deploy script” created")).to_be_focused()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert len(secret) > 20
    row = page.locator("tbody tr", has_text="deploy script")
    expect(row).to_be_visible()
    expect(row.locator("code")).to_have_text(re.compile(r"…$"))
    shoot(page, "settings")

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
