"""The local Stripe (localstripe plus the compatibility layer) over real HTTP, driven by the
official library the way production drives Stripe, with a real webhook endpoint."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from devtools.stripe_server import StripeServer, serve_in_thread
from tests.support.emulators import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_local_test_secret"
INSTANCE_ID = "4711"


# --- A webhook endpoint ------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """An HTTP endpoint in a thread that keeps every webhook delivery."""

    def __init__(self) -> None:
        deliveries: list[Delivery] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.append(Delivery(body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.deliveries = deliveries
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/stripe/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type: str, object_id: str) -> Delivery:
        """The delivery of ``event_type`` about the object ``object_id``."""

        def find() -> Delivery | None:
            for delivery in list(self.deliveries):
                event = delivery.event
                if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                    return delivery
            return None

        found: Delivery = wait_until(find, timeout=10)
        return found


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[StripeServer]:
    state_dir = tmp_path_factory.mktemp("stripe")
    server = serve_in_thread(0, state_dir, {receiver.url: SECRET}, from_scratch=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server: StripeServer) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local", base_addresses={"api": server.url})


# --- What production does ----------------------------------------------------------------


def ensure_price(api: stripe.StripeClient, lookup_key: str, amount: int) -> stripe.Price:
    """Find our price by lookup key, or create its product and the price."""
    found = api.v1.prices.list(params={"lookup_keys": [lookup_key], "active": True}).data
    if found:
        return found[0]
    product = api.v1.products.create(params={"name": f"Desktop {lookup_key}"})
    return api.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": amount,
            "currency": "eur",
            "recurring": {"interval": "month"},
            "lookup_key": lookup_key,
            "nickname": f"{lookup_key} monthly",
            "metadata": {"plan": lookup_key},
        }
    )


def open_checkout(api: stripe.StripeClient, price: stripe.Price) -> stripe.checkout.Session:
    customer = api.v1.customers.create(params={"email": "ada@example.com"})
    return api.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "http://127.0.0.1:9/billing/done?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://127.0.0.1:9/billing/cancelled",
            "client_reference_id": INSTANCE_ID,
            "metadata": {"instance_id": INSTANCE_ID},
            "subscription_data": {"metadata": {"instance_id": INSTANCE_ID}},
        }
    )


def pay(session: stripe.checkout.Session, card: str = "pm_card_visa") -> httpx.Response:
    assert session.url is not None
    return httpx.post(f"{session.url}/pay", data={"card": card}, follow_redirects=False)


@pytest.fixture()
def subscription(api: stripe.StripeClient) -> stripe.Subscription:
    session = open_checkout(api, ensure_price(api, "small", 1500))
    assert pay(session).status_code == 303
    completed = api.v1.checkout.sessions.retrieve(session.id)
    assert completed.subscription is not None
    return api.v1.subscriptions.retrieve(str(completed.subscription))


# --- Prices ------------------------------------------------------------------------------


def test_a_price_is_created_once_and_found_again_by_its_lookup_key(
    api: stripe.StripeClient,
) -> None:
    created = ensure_price(api, "medium", 2900)
    again = ensure_price(api, "medium", 2900)

    assert again.id == created.id
    assert created.id.startswith("price_")
    price = api.v1.prices.retrieve(created.id)
    assert price.object == "price"
    assert (price.unit_amount, price.currency, price.lookup_key) == (2900, "eur", "medium")
    assert price.nickname == "medium monthly"
    assert price.recurring is not None and price.recurring.interval == "month"
    assert price.active is True
    assert price.metadata.to_dict() == {"plan": "medium"}


def test_a_lookup_key_in_use_is_refused_unless_transferred(api: stripe.StripeClient) -> None:
    first = ensure_price(api, "large", 4900)
    params: dict[str, Any] = {
        "product": first.product,
        "unit_amount": 5900,
        "currency": "eur",
        "recurring": {"interval": "month"},
        "lookup_key": "large",
    }
    with pytest.raises(stripe.InvalidRequestError, match="already uses that lookup key"):
        api.v1.prices.create(params=params)

    second = api.v1.prices.create(params={**params, "transfer_lookup_key": True})

    assert ensure_price(api, "large", 4900).id == second.id
    assert api.v1.prices.retrieve(first.id).lookup_key is None


def test_a_price_can_be_renamed_and_archived(api: stripe.StripeClient) -> None:
    price = ensure_price(api, "archived", 900)

    api.v1.prices.update(price.id, params={"nickname": "old", "active": False})

    assert api.v1.prices.retrieve(price.id).nickname == "old"
    found = api.v1.prices.list(params={"lookup_keys": ["archived"], "active": True}).data
    assert found == []


def test_an_unknown_price_is_stripes_no_such_price(api: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="No such price: 'price_missing'"):
        api.v1.prices.retrieve("price_missing")


# --- Checkout ----------------------------------------------------------------------------


def test_a_checkout_session_opens_unpaid_with_our_customer_and_metadata(
    api: stripe.StripeClient,
) -> None:
    session = open_checkout(api, ensure_price(api, "small", 1500))

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status, session.mode) == (
        "open",
        "unpaid",
        "subscription",
    )
    assert session.customer is not None and str(session.customer).startswith("cus_")
    assert session.client_reference_id == INSTANCE_ID
    assert session.metadata is not None and session.metadata["instance_id"] == INSTANCE_ID
    assert session.subscription is None
    assert session.success_url is not None and "{CHECKOUT_SESSION_ID}" in session.success_url
    assert api.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_the_session_url_is_a_plain_payment_form_without_script(api: stripe.StripeClient) -> None:
    session = open_checkout(api, ensure_price(api, "small", 1500))
    assert session.url is not None

    page = httpx.get(session.url)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<form method="post" action="/checkout/{session.id}/pay">' in page.text
    assert "Pay with test card" in page.text and "15.00 EUR" in page.text
    assert "<script" not in page.text.lower()


def test_paying_starts_an_active_subscription_on_our_price_and_redirects(
    api: stripe.StripeClient,
) -> None:
    price = ensure_price(api, "small", 1500)
    session = open_checkout(api, price)

    answer = pay(session)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://127.0.0.1:9/billing/done?session={session.id}"
    done = api.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.subscription is not None
    sub = api.v1.subscriptions.retrieve(str(done.subscription))
    assert sub.status == "active"
    assert sub.customer == session.customer
    assert sub.metadata["instance_id"] == INSTANCE_ID
    item = sub["items"].data[0]
    assert item.price.id == price.id
    assert (item.price.unit_amount, item.price.currency) == (1500, "eur")
    assert item.price.nickname == "small monthly"
    assert item.price.recurring is not None and item.price.recurring.interval == "month"
    assert item["current_period_end"] > item["current_period_start"]
    invoices = api.v1.invoices.list(params={"subscription": sub.id}).data
    assert [(i.status, i.amount_paid) for i in invoices] == [("paid", 1500)]


def test_checkout_completion_and_payment_are_delivered_as_signed_webhooks(
    api: stripe.StripeClient, receiver: Receiver
) -> None:
    session = open_checkout(api, ensure_price(api, "small", 1500))
    pay(session)
    sub = api.v1.subscriptions.retrieve(
        str(api.v1.checkout.sessions.retrieve(session.id).subscription)
    )

    completed = receiver.wait_for("checkout.session.completed", session.id)
    event = stripe.Webhook.construct_event(completed.body, completed.signature, SECRET)

    assert event.type == "checkout.session.completed"
    assert event.data.object["subscription"] == sub.id
    assert event.data.object["metadata"]["instance_id"] == INSTANCE_ID
    assert event.data.object["client_reference_id"] == INSTANCE_ID
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(completed.body, completed.signature, "whsec_wrong")
    for event_type in ("invoice.payment_succeeded", "invoice.paid"):
        delivery = receiver.wait_for(event_type, str(sub.latest_invoice))
        paid = stripe.Webhook.construct_event(delivery.body, delivery.signature, SECRET)
        assert paid.data.object["status"] == "paid"
    created = receiver.wait_for("customer.subscription.created", sub.id)
    stripe.Webhook.construct_event(created.body, created.signature, SECRET)


@pytest.mark.parametrize("card", ["pm_card_chargeDeclined", "pm_card_chargeCustomerFail"])
def test_a_declined_card_leaves_the_session_open(api: stripe.StripeClient, card: str) -> None:
    session = open_checkout(api, ensure_price(api, "small", 1500))

    answer = pay(session, card)

    assert answer.status_code == 402
    assert "Your card was declined." in answer.text
    still = api.v1.checkout.sessions.retrieve(session.id)
    assert (still.status, still.payment_status, still.subscription) == ("open", "unpaid", None)
    customer = str(session.customer)
    assert api.v1.subscriptions.list(params={"customer": customer, "status": "all"}).data == []
    assert pay(session).status_code == 303  # another card still works


def test_an_expired_session_cannot_be_paid(api: stripe.StripeClient) -> None:
    session = open_checkout(api, ensure_price(api, "small", 1500))

    expired = api.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    assert pay(session).status_code == 409


# --- Subscriptions -----------------------------------------------------------------------


def test_cancel_at_period_end_is_set_and_sent_as_an_update(
    api: stripe.StripeClient, receiver: Receiver, subscription: stripe.Subscription
) -> None:
    updated = api.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})

    assert updated.cancel_at_period_end is True
    assert updated.cancel_at == updated["items"].data[0]["current_period_end"]
    assert updated.status == "active"
    delivery = receiver.wait_for("customer.subscription.updated", subscription.id)
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, SECRET)
    assert event.data.object["cancel_at_period_end"] is True
    assert event.data["previous_attributes"]["cancel_at_period_end"] is False


def test_a_plan_change_with_always_invoice_bills_and_pays_the_proration(
    api: stripe.StripeClient, receiver: Receiver, subscription: stripe.Subscription
) -> None:
    bigger = ensure_price(api, "big", 3500)
    item = subscription["items"].data[0]

    changed = api.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [{"id": item.id, "price": bigger.id}],
            "proration_behavior": "always_invoice",
        },
    )

    assert changed["items"].data[0].id == item.id
    assert changed["items"].data[0].price.id == bigger.id
    assert changed.latest_invoice != subscription.latest_invoice
    invoice = api.v1.invoices.retrieve(str(changed.latest_invoice))
    assert invoice.status == "paid"
    assert invoice.billing_reason == "subscription_update"
    lines = sorted(line.amount for line in invoice.lines.data)
    assert lines[0] < 0 < lines[1]
    assert all(line.proration for line in invoice.lines.data)
    assert 1900 <= invoice.amount_paid <= 2000  # (35.00 - 15.00) for what is left of the month
    paid = api.v1.invoices.list(params={"subscription": subscription.id, "status": "paid"}).data
    assert {i.id for i in paid} == {invoice.id, subscription.latest_invoice}
    receiver.wait_for("invoice.paid", invoice.id)
    delivery = receiver.wait_for("customer.subscription.updated", subscription.id)
    assert "items" in delivery.event["data"]["previous_attributes"]


def test_a_plan_change_creating_prorations_is_billed_by_an_invoice_of_pending_items(
    api: stripe.StripeClient, subscription: stripe.Subscription
) -> None:
    bigger = ensure_price(api, "big", 3500)
    item = subscription["items"].data[0]
    api.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [{"id": item.id, "price": bigger.id}],
            "proration_behavior": "create_prorations",
        },
    )
    customer = str(subscription.customer)

    invoice = api.v1.invoices.create(
        params={
            "customer": customer,
            "subscription": subscription.id,
            "pending_invoice_items_behavior": "include",
        }
    )
    paid = api.v1.invoices.pay(str(invoice.id))

    assert paid.status == "paid"
    assert len(paid.lines.data) == 2 and all(line.proration for line in paid.lines.data)
    assert 1900 <= paid.amount_paid <= 2000


def _pdf_objects(document: bytes) -> list[int]:
    """The object numbers the PDF's cross-reference table points at (checks each offset)."""
    assert document.startswith(b"%PDF-1.") and document.rstrip().endswith(b"%%EOF")
    xref = int(document.rsplit(b"startxref", 1)[1].split()[0])
    assert document[xref:].startswith(b"xref\n")
    rows = document[xref:].split(b"\n")[3:]
    numbers = []
    for number, row in enumerate(rows, start=1):
        if not row.endswith(b" n "):
            break
        offset = int(row.split()[0])
        assert document[offset:].startswith(b"%d 0 obj" % number)
        numbers.append(number)
    return numbers


def test_a_paid_invoice_links_its_hosted_page_and_pdf_and_a_draft_none(
    api: stripe.StripeClient, server: StripeServer, subscription: stripe.Subscription
) -> None:
    paid = api.v1.invoices.list(params={"subscription": subscription.id}).data[0]

    assert paid.hosted_invoice_url == f"{server.url}/invoice/{paid.id}"
    assert paid.invoice_pdf == f"{server.url}/invoice/{paid.id}/pdf"
    pdf = httpx.get(paid.invoice_pdf)  # a browser's request: no API key
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(_pdf_objects(pdf.content)) == 5
    assert b"(Total: 15.00 EUR) Tj" in pdf.content and b"(Status: paid) Tj" in pdf.content
    page = httpx.get(paid.hosted_invoice_url)
    assert page.status_code == 200 and "<p>Total: 15.00 EUR</p>" in page.text
    assert f'href="{paid.invoice_pdf}"' in page.text

    customer = str(subscription.customer)
    api.v1.invoice_items.create(params={"customer": customer, "amount": 500, "currency": "eur"})
    draft = api.v1.invoices.create(
        params={"customer": customer, "pending_invoice_items_behavior": "include"}
    )
    assert draft.status == "draft"
    assert (draft.hosted_invoice_url, draft.invoice_pdf) == (None, None)
    assert httpx.get(f"{server.url}/invoice/{draft.id}/pdf").status_code == 404
    assert httpx.get(f"{server.url}/invoice/in_unknown").status_code == 404


def test_a_plan_change_without_proration_bills_nothing(
    api: stripe.StripeClient, subscription: stripe.Subscription
) -> None:
    bigger = ensure_price(api, "big", 3500)
    item = subscription["items"].data[0]

    changed = api.v1.subscriptions.update(
        subscription.id,
        params={"items": [{"id": item.id, "price": bigger.id}], "proration_behavior": "none"},
    )
    invoice = api.v1.invoices.create(
        params={"customer": str(subscription.customer), "pending_invoice_items_behavior": "include"}
    )

    assert changed.latest_invoice == subscription.latest_invoice
    assert invoice.lines.data == []


def test_subscription_metadata_changes_are_kept(
    api: stripe.StripeClient, subscription: stripe.Subscription
) -> None:
    api.v1.subscriptions.update(subscription.id, params={"metadata": {"note": "renamed"}})
    api.v1.subscriptions.update(subscription.id, params={"metadata": {"note": ""}})

    assert api.v1.subscriptions.retrieve(subscription.id).metadata.to_dict() == {
        "instance_id": INSTANCE_ID
    }


def test_cancelling_a_subscription_sends_customer_subscription_deleted(
    api: stripe.StripeClient, receiver: Receiver, subscription: stripe.Subscription
) -> None:
    cancelled = api.v1.subscriptions.cancel(subscription.id)

    assert cancelled.status == "canceled"
    delivery = receiver.wait_for("customer.subscription.deleted", subscription.id)
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, SECRET)
    assert event.data.object["metadata"]["instance_id"] == INSTANCE_ID


def test_an_idempotency_key_replays_the_first_answer(api: stripe.StripeClient) -> None:
    key = {"idempotency_key": f"customer-{time.time_ns()}"}
    first = api.v1.customers.create(params={"email": "once@example.com"}, options=key)
    again = api.v1.customers.create(params={"email": "once@example.com"}, options=key)

    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        api.v1.customers.create(params={"email": "other@example.com"}, options=key)


# --- The launcher ------------------------------------------------------------------------


def _outside_address() -> str | None:
    """This machine's address on a network interface, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_the_server_listens_on_loopback_only(server: StripeServer) -> None:
    address = _outside_address()
    if address is None:
        pytest.skip("no network interface besides loopback")

    with pytest.raises(OSError):
        socket.create_connection((address, server.port), timeout=1).close()
    socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def launch(receiver: Receiver) -> Iterator[Callable[..., stripe.StripeClient]]:
    """Run ``python -m devtools.stripe_server`` as make run does; stopped after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(state_dir: Path, *extra: str) -> stripe.StripeClient:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        port = _free_port()
        command = [sys.executable, "-m", "devtools.stripe_server", "--port", str(port)]
        command += ["--state-dir", str(state_dir), "--webhook", f"{receiver.url}={SECRET}", *extra]
        processes.append(subprocess.Popen(command, cwd=ROOT))

        def answers() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                return False
            return True

        wait_until(answers, timeout=15)
        return stripe.StripeClient(
            "sk_test_local", base_addresses={"api": f"http://127.0.0.1:{port}"}
        )

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_state_survives_a_restart_and_webhooks_are_registered_again(
    launch: Callable[..., stripe.StripeClient], receiver: Receiver, tmp_path: Path
) -> None:
    first = launch(tmp_path)
    price = ensure_price(first, "restart", 1000)
    session = open_checkout(first, price)
    assert (tmp_path / "localstripe.pickle").exists()

    second = launch(tmp_path)

    assert ensure_price(second, "restart", 1000).id == price.id
    assert second.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert second.v1.customers.retrieve(str(session.customer)).email == "ada@example.com"
    product = second.v1.products.create(params={"name": "After the restart"})
    delivery = receiver.wait_for("product.created", product.id)
    stripe.Webhook.construct_event(delivery.body, delivery.signature, SECRET)

    third = launch(tmp_path, "--from-scratch")

    with pytest.raises(stripe.InvalidRequestError):
        third.v1.customers.retrieve(str(session.customer))


def test_in_memory_it_starts_empty_and_saves_nothing(
    launch: Callable[..., stripe.StripeClient], tmp_path: Path
) -> None:
    first = launch(tmp_path)
    customer = first.v1.customers.create(params={"email": "kept@example.com"})
    saved = (tmp_path / "localstripe.pickle").read_bytes()

    in_memory = launch(tmp_path, "--in-memory")

    with pytest.raises(stripe.InvalidRequestError):
        in_memory.v1.customers.retrieve(customer.id)
    in_memory.v1.customers.create(params={"email": "forgotten@example.com"})
    assert (tmp_path / "localstripe.pickle").read_bytes() == saved
