"""Bodies built to break the parser or the schemas, on every route that takes one: over the
size limit (with a length or chunked), nested ten thousand levels deep, numbers no column
holds, and every field given a value of the wrong type. Each is a 4xx in the error
contract, never a 5xx, and the process serves the next request as before."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from tests.security.routes import RULES, body_rules, caller_of, route_for
from tests.security.world import World, owner_state
from tests.support.api import error_of
from tests.support.database import Database

MAX_BODY = 1024 * 1024
DEEP = 10_000
WRONG_TYPES: list[Any] = [True, 1.5, "text", [], {}, ["nested"], {"$gt": ""}]
OUT_OF_RANGE = [-1, 2**31, 2**63, 10**30, 1e308]


def _post(world: World, key: str, raw: bytes, **environ: Any) -> Any:
    route = route_for(world.app, key)
    party = world.parties[caller_of(RULES[key])]
    headers = {"Content-Type": "application/json", "X-CSRF-Token": party.csrf}
    if environ:  # a chunked body, as gunicorn hands it over: no length, a terminated stream
        headers["Transfer-Encoding"] = "chunked"
        return party.client.open(
            route.path(world),
            method=route.method,
            input_stream=io.BytesIO(raw),
            headers=headers,
            environ_overrides=environ,
        )
    return party.client.open(route.path(world), method=route.method, data=raw, headers=headers)


def _body(world: World, key: str) -> dict[str, Any]:
    factory = RULES[key].body
    assert factory is not None
    body: dict[str, Any] = factory(world)
    return body


@pytest.mark.usefixtures("priced_plans")
@pytest.mark.parametrize("key", body_rules())
def test_oversized_and_deeply_nested_bodies_are_refused(
    key: str, world: World, database: Database, request: pytest.FixtureRequest
) -> None:
    if RULES[key].needs_stripe:
        request.getfixturevalue("stripe_server")
    before = owner_state(database, world)
    padded = {**_body(world, key), "padding": "x" * MAX_BODY}
    oversized = json.dumps(padded).encode()
    for response in (
        _post(world, key, oversized),
        _post(world, key, oversized, **{"wsgi.input_terminated": True}),
    ):
        assert response.status_code == 413, response.get_data(as_text=True)[:200]
        assert error_of(response)["code"] == "payload_too_large"

    for deep in ("[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP):
        response = _post(world, key, deep.encode())
        assert response.status_code == 400
        assert error_of(response) == {
            "code": "bad_request",
            "message": "The body is nested too deeply.",
        }
    assert owner_state(database, world) == before

    # The worker that parsed them still serves: a chunked body within the limit works.
    small = json.dumps(_body(world, key)).encode()
    served = _post(world, key, small, **{"wsgi.input_terminated": True})
    assert served.status_code < 500
    assert served.status_code == RULES[key].expect[caller_of(RULES[key])]


def test_a_hundred_thousand_levels_and_a_five_thousand_digit_number_are_400(
    world: World,
) -> None:
    key = "PUT /api/account/preferences"
    deepest = ('{"a":' * 100_000 + "1" + "}" * 100_000).encode()
    assert _post(world, key, deepest).status_code == 400
    digits = json.dumps(_body(world, key)).replace(
        '"idle_minutes": 60', '"idle_minutes": ' + "9" * 5000
    )
    response = _post(world, key, digits.encode())
    assert response.status_code == 400
    assert error_of(response)["message"] == "The body is not valid JSON."


def _wrong_values(valid: Any) -> list[Any]:
    """Values of another JSON type than the valid one; for integers, numbers out of range.
    (A fraction where an integer goes is truncated, as marshmallow's Integer does: 1.5 is
    1, which is no wrong type.)"""
    if isinstance(valid, bool):
        return [v for v in WRONG_TYPES if not isinstance(v, bool)]
    if isinstance(valid, int):
        return [v for v in WRONG_TYPES if not isinstance(v, int | float)] + OUT_OF_RANGE
    return [v for v in WRONG_TYPES if type(v) is not type(valid)]


TYPED_RULES = [key for key in body_rules() if RULES[key].kind != "machine" or "agent" in key]


@pytest.mark.parametrize("key", TYPED_RULES)
def test_every_field_of_the_wrong_type_is_422_naming_it(
    key: str, world: World, database: Database
) -> None:
    before = owner_state(database, world)
    valid = _body(world, key)
    for field, value in valid.items():
        for wrong in _wrong_values(value):
            response = _post(world, key, json.dumps({**valid, field: wrong}).encode())
            assert response.status_code == 422, (field, wrong, response.get_json())
            assert field in error_of(response).get("fields", {}), (field, wrong)
    assert owner_state(database, world) == before


def test_ids_beyond_the_database_column_match_no_route(world: World) -> None:
    """An id in a path past PostgreSQL's integer range matches no route: a 404 (or 405 where
    werkzeug's matcher saw the same path for another method first), never a query."""
    owner = world.parties["owner"]
    for key in RULES:
        route = route_for(world.app, key)
        if not any(name.endswith("_id") for name in route.arguments):
            continue
        too_big = re.sub(r"<int:\w+>", str(2**31), route.rule)
        response = owner.request(
            route.method, too_big, body=_body(world, key) if RULES[key].body else None
        )
        assert response.status_code in (404, 405), (key, response.status_code)
    assert owner.request("GET", f"/api/instances/{2**31 - 1}").status_code == 404


def test_a_nul_at_the_bottom_of_a_deep_body_is_found_and_named(world: World) -> None:
    """As deep as the parser goes, the text check still walks it (without recursion)."""
    key = "PUT /api/auth/profile"
    deep = '{"full_name": ' + "[" * 500 + '"\\u0000"' + "]" * 500 + "}"
    response = _post(world, key, deep.encode())
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["full_name"]
