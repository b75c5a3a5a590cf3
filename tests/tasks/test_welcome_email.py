"""The first real task, end to end: API → Redis → Celery worker → SMTP."""

from flask.testing import FlaskClient

from tests.support.api import Customer
from tests.support.mailbox import Mailbox


def test_signup_sends_a_welcome_email_through_a_real_worker(
    client: FlaskClient, inbox: Mailbox
) -> None:
    customer = Customer(client)
    message = inbox.wait_for(customer.email)
    assert message["Subject"] == "Welcome to NemoRDP"
    assert "NemoRDP" in str(message["From"])
    assert "account is ready" in message.get_content()
