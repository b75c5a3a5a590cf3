"""The customer dashboard: HTML shells whose pages get all their data from /api.

Every page is the same shell; ``static/js/app.js`` routes on the URL and fetches from the
JSON API. The shell carries no inline script or style, so a strict Content-Security-Policy
holds; it is sent on these responses now.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, Response, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.errors import http_error_response

bp = Blueprint("web", __name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)


@cache
def _modules() -> list[str]:
    """Every ES module under static/js, preloaded by the shell so none waits on another."""
    return sorted(p.relative_to(STATIC_DIR).as_posix() for p in (STATIC_DIR / "js").rglob("*.js"))


def _shell() -> Response:
    response = make_response(render_template("web/shell.html", modules=_modules()))
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


@bp.after_request
def security_headers(response: Response) -> Response:
    """Strict CSP and friends on the dashboard's pages."""
    return _secure(response)


def _secure(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.app_errorhandler(404)
def not_found(error: HTTPException) -> ResponseReturnValue:
    """An HTML page for browsers outside /api; everyone else keeps the JSON contract."""
    prefers_html = (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    )
    if request.path.startswith("/api/") or request.path == "/api" or not prefers_html:
        return http_error_response(error)
    return _secure(make_response(render_template("web/not_found.html"), 404))


def register_web(app: Flask) -> None:
    """Serve the dashboard from this app."""
    app.register_blueprint(bp)
