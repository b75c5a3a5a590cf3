"""What docs/monitoring.md promises operators is emitted by the platform's own code: Stripe
webhooks, real and forged, show in `/metrics` and in the alert mailbox, and every documented
metric and alert has code that emits it (not only a test calling it)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.monitoring.scrape import Samples, scrape, value
from tests.support.billing import deliver, event, signature
from tests.support.emulators import wait_until
from tests.support.mailbox import Mailbox

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "monitoring.md").read_text()
WEBHOOKS = "nemordp_webhook_events_total"
ALERTS = "nemordp_alerts_total"
STRANGER = "203.0.113.9"


def _platform_sources() -> dict[Path, str]:
    return {
        path: path.read_text()
        for folder in ("app", "tasks", "workers")
        for path in (ROOT / folder).rglob("*.py")
    }


def _grew(before: Samples, name: str, by: float, **labels: str) -> Any:
    """A check that the sample grew by ``by`` since ``before``, for wait_until."""

    def check(client: FlaskClient) -> bool:
        return value(scrape(client), name, **labels) == value(before, name, **labels) + by

    return check


def test_a_forged_webhook_is_counted_and_alerted_once_per_window(
    client: FlaskClient, inbox: Mailbox
) -> None:
    before = scrape(client)
    payload = json.dumps(event("invoice.paid", {"id": "in_forged", "customer": "cus_x"})).encode()
    for _ in range(2):
        response = client.post(
            "/api/billing/webhook",
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": signature(payload, secret="whsec_someone_else")},
            environ_base={"REMOTE_ADDR": STRANGER},
        )
        assert response.status_code == 400
    mail = wait_until(
        lambda: [m for m in inbox.messages if "webhook signature" in str(m["Subject"])],
        timeout=15,
    )[0]
    assert str(mail["Subject"]) == "[NemoRDP alert] Stripe webhook signature check failed"
    assert STRANGER in mail.get_content()
    after = scrape(client)
    invalid = {"type": "unverified", "outcome": "invalid_signature"}
    assert value(after, WEBHOOKS, **invalid) == value(before, WEBHOOKS, **invalid) + 2
    suppressed = {"alert": "webhook_signature", "outcome": "suppressed"}
    assert value(after, ALERTS, **suppressed) == value(before, ALERTS, **suppressed) + 1
    # The worker that mailed it counts the delivery in its own metrics file.
    wait_until(
        lambda: _grew(before, ALERTS, 1, alert="webhook_signature", outcome="delivered")(client),
        timeout=10,
    )


def test_verified_webhooks_are_counted_by_type_and_outcome(
    client: FlaskClient, worker: Any
) -> None:
    before = scrape(client)
    paid = event("invoice.paid", {"id": "in_signals", "customer": "cus_unknown"})
    assert deliver(client, paid).get_json() == {"received": True, "duplicate": False}
    assert deliver(client, paid).get_json() == {"received": True, "duplicate": True}
    deliver(client, event("customer.created", {"id": "cus_signals"}))
    for event_type, outcome in (
        ("invoice.paid", "processed"),
        ("invoice.paid", "duplicate"),
        ("customer.created", "ignored"),
    ):
        check = _grew(before, WEBHOOKS, 1, type=event_type, outcome=outcome)
        wait_until(lambda check=check: check(client), timeout=15)


def test_every_documented_metric_is_defined_and_written_by_platform_code() -> None:
    documented = set(re.findall(r"^\| `(nemordp_\w+)` \|", DOC, flags=re.MULTILINE))
    assert documented, "the metrics table of docs/monitoring.md was not found"
    sources = _platform_sources()
    metrics_file = ROOT / "app" / "metrics.py"
    tree = ast.parse(sources[metrics_file])
    defined = {
        node.targets[0].id: node.value.args[0].value  # type: ignore[attr-defined]
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", "") in {"Counter", "Histogram", "Gauge"}
    }
    helpers = {
        node.name: ast.unparse(node) for node in tree.body if isinstance(node, ast.FunctionDef)
    }
    elsewhere = "\n".join(text for path, text in sources.items() if path != metrics_file)

    def written(attribute: str) -> bool:
        if re.search(rf"\bmetrics\.{attribute}\b", elsewhere):
            return True
        return any(
            re.search(rf"\b{attribute}\b", body) and re.search(rf"\bmetrics\.{name}\(", elsewhere)
            for name, body in helpers.items()
        )

    for attribute, name in defined.items():
        assert name.removesuffix("_total") in {d.removesuffix("_total") for d in documented}
        assert written(attribute), f"{name} is defined but nothing in the platform writes it"
    read_at_scrape = documented - {f"{n}_total" for n in defined.values()} - set(defined.values())
    exporter = sources[ROOT / "app" / "services" / "metrics_export.py"]
    for name in read_at_scrape:
        assert f'"{name}"' in exporter, f"{name} is documented but never exported"


def test_every_documented_alert_is_raised_by_platform_code() -> None:
    raisers = re.findall(r"`app\.services\.alerts\.(\w+)\(", DOC)
    assert {"jobs_stuck", "webhook_signature_failed", "job_failed"} <= set(raisers)
    sources = _platform_sources()
    for raiser in raisers:
        calls = [
            path
            for path, text in sources.items()
            if re.search(rf"\balerts\.{raiser}\(", text) and path.name != "alerts.py"
        ]
        assert calls, f"alerts.{raiser} is documented but nothing in the platform calls it"
    checks = sources[ROOT / "app" / "services" / "alert_checks.py"]
    for key in re.findall(r"^\| `(\w+)(?::<\w+>)?` \| `periodic\.check_alerts`", DOC, re.M):
        assert f'"{key}' in checks or f'f"{key}:' in checks, f"{key} is never raised"


def test_every_alert_key_in_the_code_is_documented_and_every_documented_one_raised() -> None:
    table = DOC.split("## Alerts by e-mail")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `(\w+)(?::<[\w ]+>)*` \|", table, re.M))
    raised = {
        key
        for text in _platform_sources().values()
        for key in re.findall(r"Alert\(\s*f?\"(\w+)[:\"]", text)
    }
    assert raised == documented
