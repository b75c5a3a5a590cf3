"""Every route of the URL map, called by anonymous, another customer, the owner, staff and
an admin.

Each cell is a real request with a body that would succeed for a caller allowed to make
it, so a refusal is the authorisation at work and not a validation error. A refused request
must leave the owner's account and objects as they were; another customer's 404 must read
exactly like the 404 of an object that does not exist.
"""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import ACTIVE_JOB_STATES, Job
from tests.security.routes import RULES, Route, route_for, routes
from tests.security.world import PARTIES, World, build_world, owner_state
from tests.support.api import error_of
from tests.support.database import Database
from tests.support.emulators import wait_until

MISSING_ID = 987_654


def test_every_route_has_a_rule(app: Flask) -> None:
    served = {route.key for route in routes(app)}
    unclassified = sorted(served - set(RULES))
    assert not unclassified, f"classify these routes in tests/security/routes.py: {unclassified}"
    assert not sorted(set(RULES) - served), "rules for routes the app no longer serves"


def _let_its_jobs_finish(database: Database) -> None:
    """A staff or admin action allowed before the owner's turn may have started a job, which
    the suite's worker carries on with: wait for it, so that what the next refused call is
    checked against does not move by itself. (The world's machine is unknown to the
    emulators, so such a job ends at once.)"""
    with contextlib.suppress(AssertionError):
        wait_until(
            lambda: (
                not database.scalar(select(func.count()).where(Job.state.in_(ACTIVE_JOB_STATES)))
            ),
            timeout=20,
            interval=0.2,
        )


def _without_objects(world: World) -> World:
    """The same world with every object id pointing at nothing."""
    return dataclasses.replace(
        world,
        instance_id=MISSING_ID,
        job_id=MISSING_ID,
        ticket_id=MISSING_ID,
        token_id=MISSING_ID,
        ssh_key_id=MISSING_ID,
        snapshot_id=MISSING_ID,
    )


def _send(world: World, party: str, route: Route, rule_key: str) -> tuple[int, object]:
    rule = RULES[rule_key]
    response = world.parties[party].request(
        route.method,
        route.path(world),
        body=rule.body(world) if rule.body else None,
        query=rule.query(world) if rule.query else None,
    )
    body = error_of(response) if response.status_code >= 400 and response.is_json else None
    return response.status_code, body


@pytest.mark.usefixtures("priced_plans", "worker")
@pytest.mark.parametrize("key", sorted(RULES))
def test_each_party_gets_what_its_rule_says(
    key: str, app: Flask, database: Database, request: pytest.FixtureRequest
) -> None:
    rule = RULES[key]
    route = route_for(app, key)
    if rule.needs_stripe:
        request.getfixturevalue("stripe_server")
    world = build_world(app, database)

    outcomes: dict[str, int] = {}
    for party in PARTIES:  # the owner last: its request may change or end things
        before = owner_state(database, world)
        status, error = _send(world, party, route, key)
        outcomes[party] = status
        assert status < 500, (party, status, error)
        if status < 400:
            _let_its_jobs_finish(database)
        if status >= 400:
            assert owner_state(database, world) == before, f"{party}'s refused call changed state"
            if route.rule.startswith("/api"):
                assert error is not None, f"{party}: {status} without the error contract"
    assert outcomes == rule.expect, rule.note

    if rule.kind == "owned":
        # Another customer learns nothing: the answer for the owner's object is the answer
        # for an object that does not exist.
        _, for_real_object = _send(world, "stranger", route, key)
        _, for_no_object = _send(_without_objects(world), "stranger", route, key)
        assert for_real_object == for_no_object
