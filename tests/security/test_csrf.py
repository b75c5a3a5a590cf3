"""Every unsafe route of the URL map, called with a session cookie but without the session's
CSRF token: no header, a forged one, another session's, or an ``Authorization`` header a
browser may add by itself (a proxy's Basic credentials). Each is a 403 that changes
nothing; the same request with the token then gets its ordinary answer.

Requests without a session cookie need no token: bearer-token programs, Stripe's signed
webhooks and the agents carry no ambient credentials. A cross-site form cannot reach the API
either way: it cannot send ``application/json`` (415) nor a custom header.
"""

from __future__ import annotations

import pytest

from tests.security.routes import RULES, UNSAFE_METHODS, caller_of, route_for
from tests.security.world import World, owner_state
from tests.support.api import error_of
from tests.support.database import Database

UNSAFE_RULES = sorted(key for key in RULES if key.split(" ", 1)[0] in UNSAFE_METHODS)


@pytest.mark.usefixtures("priced_plans")
@pytest.mark.parametrize("key", UNSAFE_RULES)
def test_a_cookie_authenticated_write_without_its_csrf_token_is_403(
    key: str, world: World, database: Database, request: pytest.FixtureRequest
) -> None:
    rule = RULES[key]
    if rule.needs_stripe:
        request.getfixturevalue("stripe_server")
    route = route_for(world.app, key)
    party = world.parties[caller_of(rule)]
    other_session = world.parties["stranger"].csrf
    before = owner_state(database, world)

    for headers in (
        {},
        {"X-CSRF-Token": "forged"},
        {"X-CSRF-Token": other_session},
        {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
    ):
        response = party.request(
            route.method,
            route.path(world),
            body=rule.body(world) if rule.body else None,
            query=rule.query(world) if rule.query else None,
            headers=headers,
            csrf=False,
        )
        assert response.status_code == 403, (headers, response.get_data(as_text=True))
        assert "CSRF" in error_of(response)["message"]
        assert owner_state(database, world) == before, headers

    allowed = party.request(
        route.method,
        route.path(world),
        body=rule.body(world) if rule.body else None,
        query=rule.query(world) if rule.query else None,
    )
    assert allowed.status_code == rule.expect[party.name]
