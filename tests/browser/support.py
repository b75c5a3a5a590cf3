"""Helpers for browser tests: screenshots, accessibility checks, API shortcuts."""

from __future__ import annotations

import itertools
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize
from sqlalchemy import update

from app.models import Role, User
from tests.support.api import PASSWORD
from tests.support.database import Database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

_emails = itertools.count(1)


def new_email() -> str:
    return f"browser{next(_emails)}-{time.monotonic_ns()}@example.com"


def shoot(page: Page, name: str) -> None:
    """Screenshots at desktop and phone width; the phone page must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    try:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
    finally:
        page.set_viewport_size(original)


# -- accessibility -------------------------------------------------------------------------
CONTROL_ROLES = {
    "button",
    "checkbox",
    "combobox",
    "link",
    "listbox",
    "menuitem",
    "radio",
    "searchbox",
    "slider",
    "spinbutton",
    "switch",
    "tab",
    "textbox",
}


def unnamed_controls(page: Page) -> list[str]:
    """Controls with no accessible name, as Chromium's accessibility tree computes them."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        missing = []
        for node in nodes:
            role = node.get("role", {}).get("value")
            if node.get("ignored") or role not in CONTROL_ROLES:
                continue
            if str(node.get("name", {}).get("value") or "").strip():
                continue
            described = cdp.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})
            element = described["node"]
            missing.append(f"{role}: <{element['localName']} {element.get('attributes', [])}>")
        return missing
    finally:
        cdp.detach()


def control_count(page: Page) -> int:
    """How many form controls and buttons are rendered (so a check did look at something)."""
    return int(
        page.evaluate(
            "() => [...document.querySelectorAll('input, select, textarea, button')]"
            ".filter(el => el.getClientRects().length).length"
        )
    )


CONTRAST_SCRIPT = """
(rootSelector) => {
  const root = document.querySelector(rootSelector) || document.body;
  const parse = (value) => {
    const match = /rgba?\\(([^)]+)\\)/.exec(value);
    if (!match) return null;
    const parts = match[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const blend = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const backdrop = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a >= 1) break;
      }
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) result = blend(layer, result);
    return result;
  };
  const failures = [];
  const checked = new Set();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const element = text.parentElement;
    if (!text.textContent.trim() || !element || checked.has(element)) continue;
    checked.add(element);
    if (!element.getClientRects().length) continue;
    if (element.closest('.visually-hidden, [aria-hidden="true"], button:disabled')) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden') continue;
    const under = backdrop(element);
    const colour = blend(parse(style.color), under);
    const [light, dark] = [luminance(colour), luminance(under)].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) {
      failures.push(`<${element.localName} class="${element.className}"> ` +
        `"${text.textContent.trim().slice(0, 40)}": ${ratio.toFixed(2)} < ${needed}`);
    }
  }
  return { failures, checked: checked.size };
}
"""


def contrast_failures(page: Page, root: str = "body") -> list[str]:
    """Text below WCAG AA contrast (4.5:1, 3:1 for large text); disabled controls exempt."""
    result: dict[str, Any] = page.evaluate(CONTRAST_SCRIPT, root)
    assert result["checked"] > 0, "no text was checked"
    failures: list[str] = result["failures"]
    return failures


def check_accessibility(page: Page, root: str = "body", *, controls: bool = True) -> None:
    """Every control named, every text readable, at desktop and at phone width (`controls`:
    whether the page must have form controls, as every dashboard page has)."""
    assert control_count(page) > 0 or not controls
    original = page.viewport_size or DESKTOP
    try:
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            assert unnamed_controls(page) == [], f"controls without a name at {size['width']}px"
            assert contrast_failures(page, root) == [], f"low contrast at {size['width']}px"
    finally:
        page.set_viewport_size(original)


def is_focused(locator: Locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def tab_to(page: Page, target: Locator, *, limit: int = 40, backwards: bool = False) -> int:
    """Press Tab until `target` has the focus; returns how many presses it took."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if is_focused(target):
            return presses
    raise AssertionError(f"{target} was not reached with {limit} presses of {key}")


# -- API shortcuts (the browser context's cookies, so the page is signed in too) -----------
def pay(checkout_url: str) -> None:
    """Pay on the (local) Stripe payment page with the test card, as a browser would."""
    paid = httpx.post(f"{checkout_url}/pay", data={"card": "pm_card_visa"}, follow_redirects=False)
    assert paid.is_redirect, paid.text


class ApiSession:
    """Drive the JSON API with a browser context's cookie jar."""

    def __init__(self, context: BrowserContext, email: str | None = None) -> None:
        self.context = context
        self.email = email or new_email()
        response = context.request.post(
            "/api/auth/signup", data={"email": self.email, "password": PASSWORD}
        )
        assert response.status == 201, response.text()
        body = response.json()
        self.user_id: int = body["user"]["id"]
        self.csrf: str = body["csrf_token"]

    def post(self, path: str, data: Any = None) -> Any:
        response = self.context.request.post(path, data=data, headers={"X-CSRF-Token": self.csrf})
        assert response.ok, response.text()
        return response.json() if response.status != 204 else None

    def get(self, path: str) -> Any:
        response = self.context.request.get(path)
        assert response.ok, response.text()
        return response.json()

    def place_order(self, **body: str) -> dict[str, Any]:
        """POST /api/instances: the instance, and its job or its payment page."""
        ordered: dict[str, Any] = self.post(
            "/api/instances",
            {"plan": "basic", "os_type": "windows", "region": "us-east", **body},
        )
        return ordered

    def order(self, **body: str) -> dict[str, Any]:
        """Order a machine (paying on the checkout page when one is asked for); returns the
        instance and its provisioning job."""
        ordered = self.place_order(**body)
        if ordered.get("job"):
            return ordered
        pay(ordered["checkout_url"])
        instance_id = ordered["instance"]["id"]
        return {"instance": ordered["instance"], "job": self.wait_for_provisioning(instance_id)}

    def wait_for_provisioning(self, instance_id: int, timeout: float = 30) -> dict[str, Any]:
        """The provisioning job a payment starts, once it exists."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.get(f"/api/instances/{instance_id}/jobs")["jobs"]
            found = [job for job in jobs if job["kind"] == "provision"]
            if found:
                return found[0]  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"no provisioning job on instance {instance_id} in {timeout}s")

    def wait_for_job(self, job_id: int, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.get(f"/api/jobs/{job_id}")
            if job["state"] in ("succeeded", "failed"):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not finish in {timeout}s")

    def logout(self) -> None:
        self.post("/api/auth/logout")


def mailed_link(message: EmailMessage) -> str:
    """The dashboard link in an e-mail, as a path with its query (the live server's port
    differs from the configured public address)."""
    found = re.search(r"https?://\S+\?token=[\w.\-]+", message.get_content())
    assert found, message.get_content()
    url = urlsplit(found.group(0))
    return f"{url.path}?{url.query}"


def make_staff(database: Database, user_id: int, role: str = Role.STAFF) -> None:
    """Give a signed-up account the staff (or admin) role."""
    with database.session() as session:
        session.execute(update(User).where(User.id == user_id).values(role=role))
        session.commit()
