"""Listing machines or subscriptions costs the same number of queries for one as for many;
a restart costs four."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Job, Subscription
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
    assert with_one <= 2  # the session's user, and the page with its count and plans


def test_a_page_past_the_end_still_says_how_many_machines_there_are(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    for n in range(3):
        make_instance(database, customer.id, provider_id=f"few-{n}")
    last = customer.get("/api/instances?page=2&per_page=2").get_json()
    assert (len(last["instances"]), last["total"]) == (1, 3)
    beyond = customer.get("/api/instances?page=5&per_page=2").get_json()
    assert (beyond["instances"], beyond["total"], beyond["page"]) == ([], 3, 5)


def _subscribe(database: Database, user_id: int, number: int) -> None:
    instance = make_instance(database, user_id, provider_id=f"paid-{number}")
    database.add(
        Subscription(
            user_id=user_id,
            instance_id=instance.id,
            plan_id=instance.plan_id,
            stripe_subscription_id=f"sub_count_{number}",
            status="active",
            amount_cents=2900,
            currency="usd",
        )
    )


def _queries_for_subscriptions(customer: Customer, database: Database, expected: int) -> int:
    with database.statements() as statements:
        response = customer.get("/api/billing/subscription")
    assert response.status_code == 200
    assert len(response.get_json()["subscriptions"]) == expected
    return len(statements)


def test_the_subscription_summary_makes_no_query_per_subscription(
    client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    _subscribe(database, customer.id, 0)
    with_one = _queries_for_subscriptions(customer, database, 1)
    for number in range(1, 20):
        _subscribe(database, customer.id, number)
    assert _queries_for_subscriptions(customer, database, 20) == with_one


def test_a_restart_makes_at_most_four_statements(client: FlaskClient, database: Database) -> None:
    """The session's user, the machine locked, the job written and the machine moved: the job
    is sent under the task id written with it, and answered without being read back."""
    customer = Customer(client)
    first = make_instance(database, customer.id, provider_id="first")
    second = make_instance(database, customer.id, provider_id="second")
    assert customer.post(f"/api/instances/{first.id}/restart").status_code == 202  # warm
    with database.statements() as statements:
        response = customer.post(f"/api/instances/{second.id}/restart")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["job"]["state"] == "queued"
    assert len(statements) <= 4, "\n".join(statements)
    assert 'desc="4 queries"' in response.headers["Server-Timing"]
    task_id = database.scalar(
        select(Job.celery_task_id).where(Job.id == response.get_json()["job"]["id"])
    )
    assert task_id is not None  # handed to the broker: not one for the stuck-job sweeper
