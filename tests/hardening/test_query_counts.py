"""Listing machines costs the same number of queries for one machine as for many."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.api import Customer
from tests.support.database import Database
from tests.support.factories import make_instance

PLANS = ("basic", "performance", "gpu")


def _queries_to_list(customer: Customer, database: Database, expected: int) -> int:
    with database.statements() as statements:
        response = customer.get("/api/instances?per_page=100")
    assert response.status_code == 200
    assert len(response.get_json()["instances"]) == expected
    return len(statements)


def test_listing_instances_makes_no_query_per_machine(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    make_instance(database, customer.id, provider_id="one")
    with_one = _queries_to_list(customer, database, 1)
    for n in range(29):
        make_instance(database, customer.id, plan=PLANS[n % 3], provider_id=f"more-{n}")
    with_thirty = _queries_to_list(customer, database, 30)
    assert with_thirty == with_one
    assert with_one <= 4  # the session's user, the count and the page (plans joined)
