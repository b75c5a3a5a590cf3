"""Addresses are real addresses wherever one is chosen (sign-up, address change, reset):
checked by the email-validator library, with a local part of the characters mailbox
providers issue, so none carries URL syntax into a mailto: link. Log-in stays lenient."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.api import PASSWORD, Customer, error_of

REFUSED = [
    "dave?cc=attacker%40evil.example&body=x@example.com",  # a mailto: link adding a cc
    "dave&bcc=x@example.com",
    "dave/../x@example.com",
    "dave#x@example.com",
    '"dave smith"@example.com',
    "dave@localhost",
    "dave@[127.0.0.1]",
    "dave@example..com",
    "Dave <dave@example.com>",
    "dave\u2028@example.com",
]
ACCEPTED = ["o'brien+tag@example.com", "dave.example_1@mail.example.net", "jörg@example.com"]


@pytest.mark.parametrize("address", REFUSED)
def test_sign_up_refuses_what_is_not_a_real_address(client: FlaskClient, address: str) -> None:
    response = client.post("/api/auth/signup", json={"email": address, "password": PASSWORD})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"email"}


@pytest.mark.parametrize("address", ACCEPTED)
def test_sign_up_takes_real_addresses(client: FlaskClient, address: str) -> None:
    response = client.post("/api/auth/signup", json={"email": address, "password": PASSWORD})
    assert response.status_code == 201


@pytest.mark.parametrize("address", REFUSED[:4])
def test_an_address_change_and_a_reset_refuse_them_too(client: FlaskClient, address: str) -> None:
    customer = Customer(client)
    change = customer.post("/api/account/email", json={"new_email": address, "password": PASSWORD})
    assert change.status_code == 422
    assert set(error_of(change)["fields"]) == {"new_email"}
    reset = customer.post("/api/account/password/reset", json={"email": address})
    assert reset.status_code == 422
    assert set(error_of(reset)["fields"]) == {"email"}


def test_log_in_stays_lenient(client: FlaskClient) -> None:
    body = {"email": "dave?cc=x@example.com", "password": PASSWORD}
    assert client.post("/api/auth/login", json=body).status_code == 401
