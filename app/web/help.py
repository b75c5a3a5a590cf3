"""Help pages: plain server-rendered HTML that works without JavaScript or a session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue


@dataclass(frozen=True)
class HelpPage:
    slug: str
    title: str
    summary: str


PAGES = (
    HelpPage(
        "rdp-windows",
        "Connect from Windows",
        "Open the .rdp file with Remote Desktop Connection, which Windows already has.",
    ),
    HelpPage(
        "rdp-mac-linux",
        "Connect from a Mac or Linux",
        "Microsoft's Windows App on a Mac, Remmina or FreeRDP on Linux.",
    ),
    HelpPage(
        "troubleshooting",
        "When a desktop does not answer",
        "What to check, and what restart, stop and start each do.",
    ),
    HelpPage(
        "billing",
        "Billing and payments",
        "Subscriptions per desktop, plan changes, cancelling and invoices.",
    ),
    HelpPage(
        "security",
        "Keeping your account safe",
        "Two-factor sign-in, recovery codes, API tokens and your desktops' passwords.",
    ),
)
BY_SLUG = {page.slug: page for page in PAGES}


bp = Blueprint("help", __name__, url_prefix="/help")


@bp.get("")
def index() -> ResponseReturnValue:
    """Every help page."""
    return render_template("web/help/index.html", pages=PAGES, page=None)


@bp.get("/<slug>")
def page(slug: str) -> ResponseReturnValue:
    """One help page."""
    found = BY_SLUG.get(slug)
    if found is None:
        abort(404)
    return render_template(f"web/help/{slug}.html", pages=PAGES, page=found)
