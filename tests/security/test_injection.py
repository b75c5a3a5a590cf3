"""SQL, script and template injection, odd Unicode and NUL bytes in every text input the
OpenAPI document declares: each string field of each JSON body and each query parameter.

Nothing is ever a 5xx. Text PostgreSQL cannot hold (NUL, an unpaired surrogate) is a 422
naming the field. The fields customers write and read back (their name, token names,
ticket subjects and messages, staff answers) take every other payload and return it as
JSON data, byte for byte; the queries stay parameterised (the tables are all there, no
other row changes). Pages never turn data into markup: the dashboard's scripts have no
HTML sink, and every API answer is JSON with ``nosniff``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from app.extensions import db
from app.models import User
from tests.security.routes import RULES, caller_of, input_rules, operation_key, route_for
from tests.security.world import World
from tests.support.api import error_of
from tests.support.database import Database

PAYLOADS = [
    "' OR 1=1 --",
    '"; DROP TABLE users; --',
    "1' UNION SELECT password_hash FROM users --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "{{7*7}} ${7*7} %s %(x)s {0}",
    "Zoë Ŝtraße 東京 🚀 \u202egnp.exe",
    "\\x00 \\' \\\" \\\\",
]
UNSTORABLE_PAYLOADS = ["nul\x00byte", "lone \ud800 surrogate"]
# Text customers write and read back: stored verbatim, returned in the account export.
STORED_TEXT = {
    "PUT /api/auth/profile": {"full_name"},
    "POST /api/auth/tokens": {"name"},
    "POST /api/support/tickets": {"subject", "message"},
    "POST /api/support/tickets/<int:ticket_id>/replies": {"message"},
    "POST /api/support/staff/tickets/<int:ticket_id>/replies": {"message"},
}
STATIC_JS = Path(__file__).resolve().parents[2] / "app" / "static" / "js"
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|"
    r"DOMParser|createContextualFragment|srcdoc"
)
# The two-factor QR code (our own SVG) is parsed into an inert document, from which only an
# allow-list of shapes and attributes is copied: nothing active can come along.
REVIEWED_SINKS = {"lib/svg.js": "new DOMParser().parseFromString(text, 'image/svg+xml')"}


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    document: dict[str, Any] = app.test_client().get("/api/openapi.json").get_json()
    return document


def _schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        resolved: dict[str, Any] = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return resolved
    return schema


def _fields(spec: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """Paths to every property of a body schema, into nested objects: text goes into
    integer and boolean fields too (where it must be refused)."""
    for name, prop in _schema(spec, schema).get("properties", {}).items():
        prop = _schema(spec, prop)
        if "properties" in prop:
            yield from ((name, *inner) for inner in _fields(spec, prop))
        else:
            yield (name,)


def _inputs(spec: dict[str, Any], key: str) -> list[tuple[str, tuple[str, ...]]]:
    """(location, field path) of every input of the route's operation."""
    method, path = operation_key(key).split(" ", 1)
    operation = spec["paths"][path][method.lower()]
    found = [("query", (p["name"],)) for p in operation.get("parameters", []) if p["in"] == "query"]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        found += [("body", field) for field in _fields(spec, body["schema"])]
    return found


def _with(values: dict[str, Any] | None, field: tuple[str, ...], payload: str) -> dict[str, Any]:
    values = dict(values or {})
    if len(field) == 1:
        values[field[0]] = payload
    else:
        values[field[0]] = _with(values.get(field[0]), field[1:], payload)
    return values


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_the_table_knows_every_operation_that_takes_input(spec: dict[str, Any]) -> None:
    with_input = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
        and (
            operation.get("requestBody")
            or any(p["in"] == "query" for p in operation.get("parameters", []))
        )
    }
    known = {operation_key(key) for key in input_rules()} - {"POST /api/billing/webhook"}
    assert with_input == known


@pytest.mark.usefixtures("priced_plans")
@pytest.mark.parametrize("key", [key for key in input_rules() if "webhook" not in key])
def test_hostile_text_in_every_input_is_data_never_code(
    key: str, world: World, database: Database, spec: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    rule = RULES[key]
    if rule.needs_stripe:
        request.getfixturevalue("stripe_server")
    route = route_for(world.app, key)
    party = world.parties[caller_of(rule)]
    owner = world.parties["owner"]
    inputs = _inputs(spec, key)
    assert inputs, f"{key} declares no input"

    for location, field in inputs:
        # A URL cannot carry an unpaired surrogate; a NUL it can (%00).
        unstorable = UNSTORABLE_PAYLOADS if location == "body" else UNSTORABLE_PAYLOADS[:1]
        for payload in PAYLOADS + unstorable:
            body = rule.body(world) if rule.body else None
            query = rule.query(world) if rule.query else None
            if location == "body":
                body = _with(body, field, payload)
            else:
                query = _with(query, field, payload)
            response = party.request(route.method, route.path(world), body=body, query=query)
            what = (field, payload, response.status_code, response.get_data(as_text=True)[:300])
            assert response.status_code < 500, what
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            if response.status_code >= 400:
                error_of(response)  # the error contract, with the payload as data at most
            if payload in UNSTORABLE_PAYLOADS:
                assert response.status_code == 422, what
                assert field[0] in error_of(response)["fields"], what
            elif field[-1] in STORED_TEXT.get(key, ()):
                assert response.status_code in (200, 201), what
                assert response.mimetype == "application/json"
                exported = owner.request("GET", "/api/account/export").get_json()
                assert payload in set(_strings(exported)), what

    # The statements stayed parameterised: every table is there, every party still is.
    with world.app.app_context():
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
    emails = set(database.scalars(select(User.email)))
    assert {p.email for p in world.parties.values() if p.email} <= emails


def test_the_dashboard_scripts_never_turn_data_into_markup() -> None:
    scripts = sorted(STATIC_JS.rglob("*.js"))
    assert scripts
    sinks = [
        f"{script.relative_to(STATIC_JS)}:{number}: {line.strip()}"
        for script in scripts
        for number, line in enumerate(script.read_text().splitlines(), 1)
        if HTML_SINKS.search(line)
        and REVIEWED_SINKS.get(str(script.relative_to(STATIC_JS))) not in line
    ]
    assert sinks == [], "the dashboard renders text with textContent only"


def test_a_password_made_of_injection_payloads_works_verbatim(world: World) -> None:
    client = world.parties["anonymous"].client
    for number, payload in enumerate(p for p in PAYLOADS if len(p) >= 10):
        email = f"injected{number}@example.com"
        signup = client.post("/api/auth/signup", json={"email": email, "password": payload})
        assert signup.status_code == 201, signup.get_json()
        client.post("/api/auth/logout", headers={"X-CSRF-Token": signup.get_json()["csrf_token"]})
        wrong = client.post("/api/auth/login", json={"email": email, "password": payload + " "})
        assert wrong.status_code == 401
        right = client.post("/api/auth/login", json={"email": email, "password": payload})
        assert right.status_code == 200
        assert json.dumps(right.get_json()).count(payload) == 0  # never echoed back
        client.post("/api/auth/logout", headers={"X-CSRF-Token": right.get_json()["csrf_token"]})
    # Logging in with an injection as the address matches nobody.
    for payload in PAYLOADS:
        attempt = client.post("/api/auth/login", json={"email": payload, "password": payload})
        assert attempt.status_code == 401
