"""Property-based fuzzing of every operation in /api/openapi.json (schemathesis, in-process).

For each operation, a signed-in customer who owns a machine, a job, a ticket, a
subscription and a token (ids from 1, so generated ids often hit them) sends generated
valid and invalid requests with the CSRF token. Every answer must be below 500, carry the
documented content type and match the schema its status documents, and invalid input must
be refused with a 4xx. The run is bounded and derandomised: the same examples every time.

The operations are listed from the route table, and a guard test checks that they are
exactly the operations the document describes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.routes import RULES, operation_key
from tests.security.world import Party, build_world
from tests.support.database import Database

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
UNDOCUMENTED = {"GET /api/openapi.json"}  # the document itself


OPERATIONS = sorted(
    operation_key(key) for key in RULES if " /api/" in key and key not in UNDOCUMENTED
)


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture()
def fuzzer(app: Flask, database: Database, stripe_server: str) -> Iterator[Party]:
    """The owner of a small world (ordering reaches the local Stripe); the tasks the run
    queued (e-mails, jobs for machines that are gone) are dropped afterwards."""
    yield build_world(app, database).owner
    app.extensions["celery"].control.purge()


def test_the_fuzzed_operations_are_the_documented_ones(api_schema: schemathesis.BaseSchema) -> None:
    documented = {
        f"{method.upper()} {path}"
        for path, item in api_schema.raw_schema["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("mode", list(GenerationMode))
@pytest.mark.parametrize("documented", OPERATIONS)
def test_every_operation_answers_within_its_contract(
    documented: str, mode: GenerationMode, api_schema: schemathesis.BaseSchema, fuzzer: Party
) -> None:
    method, path = documented.split(" ", 1)
    operation = api_schema[path][method]
    inputs = (operation.path_parameters, operation.query, operation.headers, operation.body)
    if mode is GenerationMode.NEGATIVE and not any(len(group) for group in inputs):
        pytest.skip("no input to make invalid")

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_contract(case: schemathesis.Case) -> None:
        # Uncompressed answers: the in-process client does not undo Content-Encoding.
        headers = {"X-CSRF-Token": fuzzer.csrf, "Accept-Encoding": "identity"}
        case.call_and_validate(session=fuzzer.client, headers=headers, checks=CHECKS)

    answers_within_contract()
