"""The staff ticket page builds its links from customer data, encoded: an address that
RFC 5322 allows (stored before addresses were checked more strictly) cannot add a cc or a
body to the mailto: link."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect
from sqlalchemy import update

from app.models import User
from tests.browser.support import ApiSession, make_staff
from tests.support.database import Database

CRAFTED = "dave?cc=attacker%40evil.example&body=x@example.com"


def test_the_customer_mailto_link_is_encoded(
    context: BrowserContext,
    new_context: Callable[[], BrowserContext],
    database: Database,
) -> None:
    customer = ApiSession(context)
    ticket = customer.post(
        "/api/support/tickets", {"subject": "Cannot connect", "message": "RDP says no."}
    )
    with database.session() as session:
        session.execute(update(User).where(User.id == customer.user_id).values(email=CRAFTED))
        session.commit()

    staff_context = new_context()
    staff = ApiSession(staff_context)
    make_staff(database, staff.user_id)
    desk = staff_context.new_page()
    desk.goto(f"/app/staff/tickets/{ticket['id']}")
    link = desk.get_by_role("link", name=CRAFTED)
    expect(link).to_have_attribute(
        "href", "mailto:dave%3Fcc%3Dattacker%2540evil.example%26body%3Dx@example.com"
    )
