"""Checkout Sessions for the local Stripe double, with a local payment page.

This module exists only because localstripe 1.15.10 has no Checkout. It is part of the
compatibility layer started by `devtools.stripe_server` (see also `devtools.stripe_compat`);
production code never imports it — it calls ``stripe.checkout.Session.create`` and sends the
customer to the session's ``url``, which here is a page served by the same local server.

- ``POST /v1/checkout/sessions`` (mode ``subscription``, one line item with a price),
  ``GET /v1/checkout/sessions/{id}``, ``GET /v1/checkout/sessions`` (filters customer,
  subscription, status) and ``POST /v1/checkout/sessions/{id}/expire``.
- ``GET /checkout/{id}``: a plain HTML form (no script) offering Stripe's test cards.
- ``POST /checkout/{id}/pay`` (form field ``card``): attaches the card to the customer (one is
  created from ``customer_email`` if the session has none), makes it the invoice default,
  creates the subscription with ``subscription_data.metadata`` through localstripe (which
  pays the first invoice), completes the session, sends ``checkout.session.completed`` the
  way localstripe sends its own events, and answers 303 to ``success_url`` (with
  ``{CHECKOUT_SESSION_ID}`` filled in). A declined card leaves the session open: 402 and the
  page again, with the error.
"""

from __future__ import annotations

import html
import time
from typing import Any

from aiohttp import web
from localstripe.errors import UserError, json_response
from localstripe.resources import (
    Customer,
    PaymentMethod,
    Product,
    StripeObject,
    Subscription,
    try_convert_to_int,
)

from devtools.stripe_compat import (
    Route,
    invalid,
    post_params,
    price_plan,
    query_params,
    reject_unknown,
    send_event,
)

PAGE_PREFIX = "/checkout/"  # browser pages: no API key, like checkout.stripe.com
SESSION_LIFETIME = 24 * 3600
SESSION_CREATE = {
    "cancel_url",
    "client_reference_id",
    "customer",
    "customer_email",
    "expires_at",
    "line_items",
    "metadata",
    "mode",
    "subscription_data",
    "success_url",
}
# Accepted so that production calls work unchanged; they change nothing on the local page.
SESSION_IGNORED = {
    "allow_promotion_codes",
    "automatic_tax",
    "billing_address_collection",
    "customer_update",
    "locale",
    "payment_method_collection",
    "payment_method_types",
    "tax_id_collection",
}
SUBSCRIPTION_DATA = {"description", "metadata"}
# Form value -> (label, localstripe's test payment method). Stripe's names, localstripe's cards.
TEST_CARDS = {
    "pm_card_visa": ("Visa ending 4242: succeeds", "pm_card_visa"),
    "pm_card_chargeDeclined": ("Visa ending 0002: declined", "pm_card_visa_chargeDeclined"),
    "pm_card_chargeCustomerFail": (
        "Visa ending 0341: attaches, then the charge fails",
        "pm_card_chargeCustomerFail",
    ),
}


class CheckoutSession(StripeObject):
    """A Checkout Session kept in localstripe's store, so it is saved and listed with the rest.

    Methods start with ``_``: localstripe exports every other attribute as a field.
    """

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, base_url: str, **params: Any) -> None:
        if params.get("mode") != "subscription":
            raise invalid("The local Stripe supports mode=subscription only.", "mode")
        for name in ("success_url", "cancel_url"):
            if not isinstance(params.get(name), str) or not params[name].startswith("http"):
                raise invalid(f"Not a valid URL: {name}", name)
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or len(line_items) != 1:
            raise invalid("The local Stripe takes exactly one line item.", "line_items")
        line = line_items[0]
        quantity = try_convert_to_int(line.get("quantity", 1))
        if not isinstance(quantity, int) or quantity < 1:
            raise invalid("Invalid quantity", "line_items[0][quantity]")
        plan = price_plan(line.get("price"), "line_items[0][price]")
        if not plan.active:
            raise invalid(f"The price specified is inactive: {plan.id}", "line_items[0][price]")
        customer = params.get("customer")
        if customer is not None:
            if params.get("customer_email") is not None:
                raise invalid(
                    "You may only specify one of these parameters: customer, customer_email."
                )
            Customer._api_retrieve(customer)  # 404 if there is no such customer
        subscription_data = params.get("subscription_data") or {}
        if not isinstance(subscription_data, dict):
            raise invalid("Invalid object", "subscription_data")
        reject_unknown(subscription_data, SUBSCRIPTION_DATA)
        for name in ("metadata", "subscription_data[metadata]"):
            value = params.get(name) if name == "metadata" else subscription_data.get("metadata")
            if value is not None and not isinstance(value, dict):
                raise invalid("Invalid object", name)

        now = int(time.time())
        expires_at = try_convert_to_int(params.get("expires_at", now + SESSION_LIFETIME))
        if not isinstance(expires_at, int) or not 0 < expires_at - now <= SESSION_LIFETIME:
            raise invalid("expires_at must be within 24 hours of now.", "expires_at")

        super().__init__()  # stores the object: every check is above

        self.mode = "subscription"
        self.customer = customer
        self.customer_email = params.get("customer_email")
        self.client_reference_id = params.get("client_reference_id")
        self.metadata = dict(params.get("metadata") or {})
        self.success_url = params["success_url"]
        self.cancel_url = params["cancel_url"]
        self.status = "open"
        self.payment_status = "unpaid"
        self.subscription = None
        self.invoice = None
        self.payment_intent = None
        self.url: str | None = f"{base_url}{PAGE_PREFIX}{self.id}"
        self.currency = plan.currency
        self.amount_subtotal = self.amount_total = plan.amount * quantity
        self.expires_at = expires_at
        self.payment_method_types = ["card"]
        self.ui_mode = "hosted"
        self._price = plan.id
        self._quantity = quantity
        self._subscription_data = subscription_data

    def _pay(self, card: str) -> None:
        """Take the card, start the subscription, complete the session; raise if declined."""
        payment_method = PaymentMethod._api_retrieve(TEST_CARDS[card][1])
        if payment_method._attaching_is_declined() or payment_method._charging_is_declined():
            raise UserError(402, "Your card was declined.", {"code": "card_declined"})
        customer = self.customer or Customer(email=self.customer_email).id
        PaymentMethod._api_attach(payment_method.id, customer=customer)
        Customer._api_update(
            customer, invoice_settings={"default_payment_method": payment_method.id}
        )
        subscription = Subscription(
            customer=customer,
            items=[{"plan": self._price, "quantity": self._quantity}],
            metadata=dict(self._subscription_data.get("metadata") or {}),
        )
        subscription.default_payment_method = payment_method.id
        subscription.description = self._subscription_data.get("description")
        if subscription.status != "active":
            raise UserError(402, "The payment did not go through.", {"code": "card_declined"})
        self.customer = customer
        self.subscription = subscription.id
        self.invoice = subscription.latest_invoice
        self.status = "complete"
        self.payment_status = "paid"
        self.url = None
        send_event("checkout.session.completed", self)

    def _expire(self) -> None:
        if self.status != "open":
            raise invalid('Only Checkout Sessions with a status in ["open"] can be expired.')
        self.status = "expired"
        self.url = None
        send_event("checkout.session.expired", self)

    def _redirect_url(self) -> str:
        return str(self.success_url).replace("{CHECKOUT_SESSION_ID}", self.id)


def _session(session_id: str) -> CheckoutSession:
    session = CheckoutSession._api_retrieve(session_id)
    if session.status == "open" and time.time() > session.expires_at:
        session._expire()
    return session


# --- API ---------------------------------------------------------------------------------


async def create_session(request: web.Request) -> web.Response:
    params = await post_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, SESSION_CREATE | SESSION_IGNORED)
    known = {key: value for key, value in params.items() if key in SESSION_CREATE}
    session = CheckoutSession(str(request.url.origin()), **known)
    return json_response(session._export(expand=expand))


async def retrieve_session(request: web.Request) -> web.Response:
    expand = query_params(request).get("expand")
    return json_response(_session(request.match_info["id"])._export(expand=expand))


async def list_sessions(request: web.Request) -> web.Response:
    params = query_params(request)
    expand = params.pop("expand", None)
    filters = {
        key: params.pop(key) for key in ("customer", "subscription", "status") if key in params
    }
    listing = CheckoutSession._api_list_all("/v1/checkout/sessions", **params)
    listing._list = [
        session
        for session in reversed(listing._list)  # newest first
        if all(getattr(session, key) == value for key, value in filters.items())
    ]
    return json_response(listing._export(expand=expand))


async def expire_session(request: web.Request) -> web.Response:
    session = _session(request.match_info["id"])
    session._expire()
    return json_response(session._export())


# --- The payment page --------------------------------------------------------------------


async def payment_page(request: web.Request) -> web.Response:
    try:
        session = _session(request.match_info["id"])
    except UserError:
        return _page("Checkout not found", "<p>There is no such Checkout Session.</p>", 404)
    return _session_page(session)


async def pay(request: web.Request) -> web.StreamResponse:
    try:
        session = _session(request.match_info["id"])
    except UserError:
        return _page("Checkout not found", "<p>There is no such Checkout Session.</p>", 404)
    if session.status == "complete":
        raise web.HTTPSeeOther(session._redirect_url())
    if session.status != "open":
        return _session_page(session, status=409)
    card = str((await request.post()).get("card", "pm_card_visa"))
    if card not in TEST_CARDS:
        return _session_page(session, error=f"Unknown test card: {card}", status=400)
    try:
        session._pay(card)
    except UserError as error:
        message = error.body["error"].get("message", "The payment did not go through.")
        return _session_page(session, error=message, status=error.code)
    raise web.HTTPSeeOther(session._redirect_url())


def _session_page(
    session: CheckoutSession, error: str | None = None, status: int = 200
) -> web.Response:
    esc = html.escape
    if session.status == "complete":
        link = f'<a href="{esc(session._redirect_url())}">Continue</a>'
        body = f"<p>This checkout is paid.</p><p>{link}</p>"
        return _page("Paid", body, status)
    if session.status != "open":
        link = f'<a href="{esc(session.cancel_url)}">Go back</a>'
        body = f"<p>This checkout has expired.</p><p>{link}</p>"
        return _page("Expired", body, status)
    plan = price_plan(session._price)
    product = Product._api_retrieve(plan.product).name
    amount = f"{session.amount_total / 100:.2f} {session.currency.upper()}"
    every = plan.interval if plan.interval_count == 1 else f"{plan.interval_count} {plan.interval}s"
    choices = "".join(
        f'<p><label><input type="radio" name="card" value="{esc(value)}"'
        f"{' checked' if value == 'pm_card_visa' else ''}> {esc(label)}</label></p>"
        for value, (label, _) in TEST_CARDS.items()
    )
    body = (
        f"<p>{esc(product)}{' (' + esc(plan.nickname) + ')' if plan.nickname else ''}"
        f", quantity {session._quantity}: <strong>{esc(amount)}</strong> every {esc(every)}</p>"
        + (f'<p role="alert"><strong>{esc(error)}</strong></p>' if error else "")
        + f'<form method="post" action="{PAGE_PREFIX}{esc(session.id)}/pay">'
        f"<fieldset><legend>Test card</legend>{choices}</fieldset>"
        '<p><button type="submit">Pay with test card</button></p></form>'
        f'<p><a href="{esc(session.cancel_url)}">Cancel and go back</a></p>'
    )
    return _page("Pay", body, status)


def _page(title: str, body: str, status: int) -> web.Response:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · local Stripe Checkout</title></head><body><main>"
        "<h1>Local Stripe Checkout</h1>"
        "<p><em>Test mode: served by the local Stripe double, no real card is charged.</em></p>"
        f"{body}</main></body></html>\n"
    )
    return web.Response(text=text, status=status, content_type="text/html")


ROUTES: list[Route] = [
    ("POST", "/v1/checkout/sessions", create_session),
    ("GET", "/v1/checkout/sessions", list_sessions),
    ("GET", "/v1/checkout/sessions/{id}", retrieve_session),
    ("POST", "/v1/checkout/sessions/{id}/expire", expire_session),
    ("GET", PAGE_PREFIX + "{id}", payment_page),
    ("POST", PAGE_PREFIX + "{id}/pay", pay),
]
