"""The HTML shell and its assets: CSP-ready, self-hosted, and the API's JSON contract kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.support.api import error_of

APP = Path(__file__).resolve().parents[2] / "app"
ASSETS = [
    *sorted((APP / "static").rglob("*.js")),
    *sorted((APP / "static").rglob("*.css")),
    *sorted((APP / "static").rglob("*.svg")),
    *sorted((APP / "templates" / "web").rglob("*.html")),
]
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_the_root_redirects_to_the_dashboard(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/app"


@pytest.mark.parametrize(
    "path",
    [
        "/app",
        "/app/instances/12",
        "/app/settings/security",
        "/app/support/tickets/3",
        "/app/staff/tickets",
        "/app/admin/customers/3",
        "/login",
        "/signup",
        "/reset-password?token=abc",
        "/confirm-email?token=abc",
    ],
)
def test_every_page_is_the_shell_with_a_strict_policy(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert re.search(r'<script type="module" src="/static/build/app-\w+\.js"></script>', html)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), "inline style or handler"


@pytest.mark.parametrize(
    ("link", "page"),
    [
        ("/support/tickets/7", "/app/support/tickets/7"),
        ("/staff/tickets/7", "/app/staff/tickets/7"),
        ("/instances/7?checkout=success", "/app/instances/7?checkout=success"),
        ("/instances/7", "/app/instances/7"),
    ],
)
def test_the_addresses_in_emails_and_payments_lead_to_dashboard_pages(
    client: FlaskClient, link: str, page: str
) -> None:
    response = client.get(link, headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"] == page


def test_help_pages_are_plain_html_under_the_same_policy(client: FlaskClient) -> None:
    index = client.get("/help", headers=BROWSER)
    assert index.status_code == 200
    links = re.findall(r'href="(/help/[\w-]+)"', index.get_data(as_text=True))
    assert {"/help/rdp-windows", "/help/rdp-mac-linux", "/help/billing"} <= set(links)
    for path in sorted(set(links)):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200, path
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        html = response.get_data(as_text=True)
        assert "<script" not in html and not re.search(r"<style|\sstyle=", html)
        assert 'aria-current="page"' in html
    assert client.get("/help/nothing-here", headers=BROWSER).status_code == 404


def test_unknown_api_paths_stay_json_even_for_browsers(client: FlaskClient) -> None:
    response = client.get("/api/nothing-here", headers=BROWSER)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_pages_are_html_for_browsers_and_json_for_programs(client: FlaskClient) -> None:
    page = client.get("/nowhere", headers=BROWSER)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Page not found" in page.get_data(as_text=True)
    assert "Content-Security-Policy" in page.headers
    program = client.get("/nowhere", headers={"Accept": "application/json"})
    assert program.status_code == 404 and error_of(program)["code"] == "not_found"


@pytest.mark.parametrize("asset", ASSETS, ids=lambda path: str(path.relative_to(APP)))
def test_assets_load_nothing_from_other_hosts_and_set_no_inline_code(asset: Path) -> None:
    text = asset.read_text()
    # The SVG namespace is a name, not a request.
    remote = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s'\")]*", text)
    assert [url for url in remote if "www.w3.org/2000/svg" not in url] == []
    assert "@import" not in text
    if asset.suffix == ".js":
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text
        assert not re.search(r"setAttribute\(\s*'(on\w+|style)'", text)
        assert "eval(" not in text and "new Function" not in text


def test_every_asset_the_shell_names_is_served(client: FlaskClient) -> None:
    html = client.get("/app", headers=BROWSER).get_data(as_text=True)
    paths = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(paths) >= 4  # icon, stylesheet, the page group's module and what it imports
    for path in paths:
        assert client.get(path).status_code == 200, path
