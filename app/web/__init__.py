"""The customer dashboard: HTML shells whose pages get all their data from /api.

Every page is the same shell; the ``app`` bundle (built from ``static/js/app.js``, see
``app.web.assets``) routes on the URL and fetches from the JSON API, and an /app/admin page
preloads the operator console's bundle too. The shell carries no inline script or style, so
the strict Content-Security-Policy that ``app.security.headers`` puts on every response
holds.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.errors import http_error_response
from app.web import assets
from app.web import help as help_pages

bp = Blueprint("web", __name__)


def _page_groups() -> tuple[str, ...]:
    """The bundles this address needs at once: the operator console's only under /app/admin."""
    if request.path == "/app/admin" or request.path.startswith("/app/admin/"):
        return ("app", "admin")
    return ("app",)


def _shell() -> Response:
    response = make_response(render_template("web/shell.html", groups=_page_groups()))
    # The shell holds the session's CSRF token: never store it in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index() -> ResponseReturnValue:
    """The dashboard's front door."""
    return redirect("/app")


@bp.get("/app")
@bp.get("/app/<path:subpath>")
def dashboard(subpath: str = "") -> Response:
    """Any dashboard page: the shell, routed in the browser."""
    return _shell()


@bp.get("/login")
def login() -> Response:
    """The log-in page."""
    return _shell()


@bp.get("/signup")
def signup() -> Response:
    """The sign-up page."""
    return _shell()


@bp.get("/reset-password")
def reset_password() -> Response:
    """Ask for a reset link, or (with the e-mailed ``?token=``) choose a new password."""
    return _shell()


@bp.get("/confirm-email")
def confirm_email() -> Response:
    """Where the link e-mailed to a new address lands (``?token=``)."""
    return _shell()


# The e-mails about tickets link to these short addresses; the pages live under /app.
@bp.get("/support/tickets/<int:ticket_id>")
def ticket_link(ticket_id: int) -> ResponseReturnValue:
    """A customer's ticket, as linked from the e-mail announcing a reply."""
    return redirect(f"/app/support/tickets/{ticket_id}")


@bp.get("/instances/<int:instance_id>")
def instance_link(instance_id: int) -> ResponseReturnValue:
    """A machine's page, as Stripe's payment page returns to it (``?checkout=success``)."""
    query = request.query_string.decode("ascii", "replace")
    return redirect(f"/app/instances/{instance_id}" + (f"?{query}" if query else ""))


@bp.get("/staff/tickets/<int:ticket_id>")
def staff_ticket_link(ticket_id: int) -> ResponseReturnValue:
    """A ticket in the staff view, as linked from the support inbox's e-mails."""
    return redirect(f"/app/staff/tickets/{ticket_id}")


@bp.app_errorhandler(404)
def not_found(error: HTTPException) -> ResponseReturnValue:
    """An HTML page for browsers outside /api; everyone else keeps the JSON contract."""
    prefers_html = (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    )
    if request.path.startswith("/api/") or request.path == "/api" or not prefers_html:
        return http_error_response(error)
    return make_response(render_template("web/not_found.html"), 404)


def register_web(app: Flask) -> None:
    """Serve the dashboard and its help pages from this app."""
    app.register_blueprint(bp)
    app.register_blueprint(help_pages.bp)
    app.register_blueprint(assets.bp)
    app.add_template_global(assets.asset_url)
    app.add_template_global(assets.module_urls)
