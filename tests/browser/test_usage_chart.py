"""The machine page's traffic chart: drawn from what usage polling stored (run for real
against the Vultr emulator), one bar per day in proportion to its traffic, a period
switch, the figures as a table, and honest messages when there is nothing to draw."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.models import Instance
from tests.browser.support import ApiSession, check_accessibility, shoot
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle


def _gb(value: float) -> str:
    """A figure as the browser's number format writes it: the shortest decimal that reads
    back as the same float, rounded half away from zero to at most two decimals."""
    rounded = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{rounded:,.2f}".rstrip("0").rstrip(".") + " GB"


def _active_machine(api: ApiSession, **order: str) -> dict[str, Any]:
    ordered = api.order(**order)
    assert api.wait_for_job(ordered["job"]["id"])["state"] == "succeeded"
    instance: dict[str, Any] = ordered["instance"]
    return instance


def _poll_usage(app: Flask, instance_id: int) -> None:
    celery = app.extensions["celery"]
    celery.send_task("periodic.poll_usage_batch", args=[[instance_id]], ignore_result=False).get(
        timeout=60
    )


def _bar_heights(page: Page) -> list[float]:
    return page.locator(".usage-day").evaluate_all(
        "days => days.map(day => [...day.querySelectorAll('rect')]"
        ".reduce((sum, rect) => sum + Number(rect.getAttribute('height')), 0))"
    )


def test_the_chart_shows_each_days_traffic_for_the_chosen_period(
    page: Page,
    context: BrowserContext,
    app: Flask,
    database: Database,
    vultr: EmulatorHandle,
) -> None:
    api = ApiSession(context)
    machine = _active_machine(api)
    stored = database.get(Instance, machine["id"])
    assert stored is not None and stored.provider_id
    days_alive = 10  # created ten days ago: eleven days of traffic, today included
    vultr.http.post(
        f"/machines/{stored.provider_id}/backdate", json={"days": days_alive}
    ).raise_for_status()
    _poll_usage(app, machine["id"])
    series = api.get(f"/api/instances/{machine['id']}/usage?days=30")["series"]
    assert len(series) == days_alive + 1

    page.goto(f"/app/instances/{machine['id']}")
    chart = page.locator(".usage-chart")
    expect(chart.get_by_role("heading", name="Daily traffic")).to_be_visible()
    expect(chart.locator(".usage-day")).to_have_count(30)

    # Each bar in proportion to its day's traffic; the days before the machine are empty.
    heights = _bar_heights(page)
    totals = [day["inbound_gb"] + day["outbound_gb"] for day in series]
    assert heights[: 30 - len(series)] == [0] * (30 - len(series))
    drawn = heights[30 - len(series) :]
    assert all(height > 0 for height in drawn)
    tallest = max(drawn)
    for height, total in zip(drawn, totals, strict=True):
        assert abs(height / tallest - total / max(totals)) < 0.01

    # The summary says the totals, and names the chart for assistive technology.
    sent = sum(day["outbound_gb"] for day in series)
    received = sum(day["inbound_gb"] for day in series)
    summary = (
        f"Last 30 days: {_gb(sent + received)} in all, {_gb(sent)} sent and "
        f"{_gb(received)} received."
    )
    expect(chart.locator(".usage-summary")).to_contain_text(summary)
    plot = page.get_by_role("img", name="Daily traffic")
    expect(plot).to_be_visible()
    shoot(page, "machine-usage")

    # At phone width the chart is redrawn to fit its card, every label inside it.
    page.set_viewport_size({"width": 375, "height": 740})
    page.wait_for_function(
        "() => Number(document.querySelector('.usage-svg').getAttribute('width'))"
        " === document.querySelector('.usage-plot').clientWidth"
    )
    assert page.locator(".usage-plot").evaluate("plot => plot.clientWidth") < 375
    expect(chart.locator(".usage-day")).to_have_count(30)
    misplaced = page.evaluate(
        """() => {
          const svg = document.querySelector('.usage-svg');
          const width = Number(svg.getAttribute('width'));
          const days = [...svg.querySelectorAll('text[text-anchor="middle"]')]
            .map(text => [text.textContent, text.getBBox()])
            .sort(([, a], [, b]) => a.x - b.x);
          return days.filter(([, box], i) => box.x < 0 || box.x + box.width > width
            || (i > 0 && box.x < days[i - 1][1].x + days[i - 1][1].width))
            .map(([label]) => label);
        }"""
    )
    assert misplaced == [], "day labels cut off at the chart's edges or touching each other"
    page.set_viewport_size({"width": 1280, "height": 800})

    # Seven days: seven bars, and the table lists them newest first.
    with page.expect_response(lambda r: "/usage?days=7" in r.url):
        page.get_by_label("Period").select_option("7")
    expect(chart.locator(".usage-day")).to_have_count(7)
    expect(chart.locator(".usage-summary")).to_contain_text("Last 7 days:")
    chart.get_by_text("Show the figures per day").click()
    rows = chart.locator(".usage-table tbody tr")
    expect(rows).to_have_count(7)
    today = series[-1]
    expect(rows.first.locator("time")).to_have_attribute("datetime", date.today().isoformat())
    expect(rows.first.locator("td").nth(0)).to_have_text(_gb(today["outbound_gb"]))
    expect(rows.first.locator("td").nth(1)).to_have_text(_gb(today["inbound_gb"]))
    week_ago = (date.today() - timedelta(days=6)).isoformat()
    expect(rows.last.locator("time")).to_have_attribute("datetime", week_ago)
    check_accessibility(page)

    # A restart re-reads the usage when the status changes; the same figures leave the chart
    # and the open table as they were (nothing is redrawn under the reader).
    # (The table is the mark: the SVG is also redrawn when the card's width changes.)
    page.evaluate("() => { document.querySelector('.usage-table').dataset.drawn = 'before'; }")
    with page.expect_response(lambda r: "/usage?days=7" in r.url):
        page.get_by_role("button", name="Restart").click()
    expect(page.locator(".page-header .badge")).to_have_text("Active", timeout=30_000)
    expect(page.locator(".usage-table")).to_have_attribute("data-drawn", "before")
    expect(rows).to_have_count(7)
    expect(chart.locator(".usage-details")).to_have_attribute("open", "")


def test_a_machine_with_no_recorded_traffic_says_why_there_is_no_chart(
    page: Page, context: BrowserContext, vultr: EmulatorHandle, contabo: EmulatorHandle
) -> None:
    api = ApiSession(context)
    unpolled = _active_machine(api)
    page.goto(f"/app/instances/{unpolled['id']}")
    chart = page.locator(".usage-chart")
    expect(chart).to_contain_text(
        "No traffic recorded in the last 30 days. Figures appear after the next usage reading"
    )
    expect(chart.locator(".usage-day")).to_have_count(0)
    expect(chart.get_by_text("Show the figures per day")).to_be_hidden()

    contabo_machine = _active_machine(api, region="australia")  # offered by Contabo only
    page.goto(f"/app/instances/{contabo_machine['id']}")
    expect(chart).to_contain_text("does not report daily traffic, so there is no chart")
