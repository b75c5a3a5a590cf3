"""Compatibility layer over localstripe: the Stripe APIs NemoRDP uses that localstripe lacks.

This module exists only because localstripe 1.15.10 has no Prices, no ``proration_behavior``,
no ``invoice.paid`` / ``customer.subscription.updated`` events, no invoice ``status`` filter,
and ignores subscription metadata changes. It is one half of the local Stripe double started
by `devtools.stripe_server` (the other half, Checkout Sessions, is `devtools.stripe_checkout`).
Production code never imports it: production talks to Stripe through the official ``stripe``
library, and these handlers answer the same calls the way Stripe does, on localstripe's data.

What it adds or corrects, one section each:

- Prices: a price *is* a localstripe Plan (id ``price_...``), shown in Stripe's price shape,
  with ``lookup_key`` kept on the plan. So a price id works wherever localstripe takes a plan.
- Subscriptions: ``items[].price`` is accepted (as the plan); modify understands
  ``proration_behavior`` (``none``, ``create_prorations``, ``always_invoice``: the proration
  invoice is created and paid at once), keeps the item id on a plan change, applies
  ``metadata`` changes, sets ``cancel_at`` with ``cancel_at_period_end``, and sends
  ``customer.subscription.updated`` with ``previous_attributes``.
- Invoices: ``Invoice.create`` bills pending items only (``pending_invoice_items_behavior``,
  restricted to the subscription's items when one is given), ``finalize``, list by ``status``
  and ``created``, ``pay`` answers a declined card with 402 and ``invoice.payment_failed``,
  and ``void`` ends only a first invoice's subscription and sends ``invoice.voided``.
- Refunds: ``POST /v1/refunds`` takes Stripe's ``reason`` and ``metadata``, refunds what
  is left of the payment (never more: ``charge_already_refunded``) and sends
  ``charge.refunded``; ``GET /v1/invoice_payments`` (by ``invoice`` or ``payment``) names
  the payment intent that paid an invoice, as the current API does.
- Small patches to localstripe's classes (`install_patches`): ``price`` and the current
  period on subscription items and invoice lines, and an ``invoice.paid`` event.
- Idempotency keys: a POST replayed with the same ``Idempotency-Key`` gets the first answer;
  the same key with other parameters is an ``idempotency_error`` (kept in memory).
"""

from __future__ import annotations

import hashlib
import inspect
import time
import warnings
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from localstripe.errors import UserError, json_response
from localstripe.resources import (
    Charge,
    Event,
    Invoice,
    InvoiceItem,
    InvoiceLineItem,
    List,
    PaymentIntent,
    Plan,
    Product,
    Refund,
    Subscription,
    SubscriptionItem,
    random_id,
    store,
    try_convert_to_bool,
    try_convert_to_int,
)
from localstripe.webhooks import schedule_webhook

with warnings.catch_warnings():
    # localstripe's module builds its own app from plain-function handlers, which aiohttp
    # deprecates; `devtools.stripe_server` serves those handlers wrapped in coroutines.
    warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    from localstripe import server as upstream

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler]


# --- Helpers shared by the sections ------------------------------------------------------


async def post_params(request: web.Request) -> dict[str, Any]:
    """The request's form (or JSON) body, nested the way localstripe nests it."""
    data = await upstream.get_post_data(request)
    return dict(data) if data else {}


def query_params(request: web.Request) -> dict[str, Any]:
    return dict(upstream.unflatten_data(request.query))


def invalid(message: str, param: str | None = None, status: int = 400) -> UserError:
    return UserError(status, message, {"param": param} if param else None)


def reject_unknown(params: dict[str, Any], allowed: Collection[str]) -> None:
    for key in params:
        if key not in allowed:
            raise invalid(f"Received unknown parameter: {key}", key)


def merge_metadata(current: dict[str, str] | None, changes: Any) -> dict[str, str]:
    """Stripe's rule: keys are merged, an empty value deletes a key, "" clears them all."""
    if changes == "":
        return {}
    if not isinstance(changes, dict):
        raise invalid("Invalid object", "metadata")
    merged = dict(current or {})
    for key, value in changes.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def send_event(event_type: str, obj: Any, previous: dict[str, Any] | None = None) -> None:
    """Record an event and deliver it like localstripe's own (signed, about 1 s later)."""
    event = Event(event_type, obj)
    if previous:
        event.data["previous_attributes"] = previous
    schedule_webhook(event)


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The ``previous_attributes`` of an update: old values of the keys that changed."""
    return {key: value for key, value in before.items() if after.get(key) != value}


# --- Prices: a localstripe Plan shown in Stripe's price shape ----------------------------

LOOKUP_KEY = "_compat_lookup_key"  # private, so localstripe never exports it as a plan field
PRICE_CREATE = {
    "active",
    "currency",
    "lookup_key",
    "metadata",
    "nickname",
    "product",
    "product_data",
    "recurring",
    "tax_behavior",
    "transfer_lookup_key",
    "unit_amount",
}
PRICE_UPDATE = {
    "active",
    "lookup_key",
    "metadata",
    "nickname",
    "tax_behavior",
    "transfer_lookup_key",
}
PRICE_LIST = {"active", "currency", "limit", "lookup_keys", "product", "starting_after", "type"}


def price_of(plan: Any) -> dict[str, Any]:
    return {
        "id": plan.id,
        "object": "price",
        "active": plan.active,
        "billing_scheme": plan.billing_scheme,
        "created": plan.created,
        "currency": plan.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": getattr(plan, LOOKUP_KEY, None),
        "metadata": dict(plan.metadata or {}),
        "nickname": plan.nickname,
        "product": plan.product,
        "recurring": {
            "interval": plan.interval,
            "interval_count": plan.interval_count,
            "meter": None,
            "trial_period_days": plan.trial_period_days,
            "usage_type": plan.usage_type,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": plan.tiers_mode,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": plan.amount,
        "unit_amount_decimal": str(plan.amount),
    }


class PriceView:
    """A plan seen as a price, for localstripe's `List` and `Event`, which call `_export`."""

    def __init__(self, plan: Any) -> None:
        self.id = plan.id
        self._plan = plan

    def _export(self, expand: list[str] | None = None) -> dict[str, Any]:
        price = price_of(self._plan)
        for path in expand or []:
            if path != "product":
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
            price["product"] = Product._api_retrieve(price["product"])._export()
        return price


def price_plan(price_id: Any, param: str = "price") -> Any:
    """The plan behind a price id, or Stripe's "No such price" error."""
    plan = store.get(f"plan:{price_id}") if isinstance(price_id, str) else None
    if plan is None:
        raise UserError(
            404, f"No such price: '{price_id}'", {"code": "resource_missing", "param": param}
        )
    return plan


def _plans() -> list[Any]:
    return [obj for key, obj in store.items() if key.startswith("plan:")]


def _check_lookup_key(key: Any, transfer: bool, owner: Any = None) -> Any:
    """The plan that currently holds ``key`` and must give it up, if any."""
    if key is None:
        return None
    if not isinstance(key, str) or not key or len(key) > 200:
        raise invalid("Invalid lookup_key", "lookup_key")
    holder = next((p for p in _plans() if getattr(p, LOOKUP_KEY, None) == key), None)
    if holder is None or holder is owner:
        return None
    if not transfer:
        raise invalid(f"A price (`{holder.id}`) already uses that lookup key.", "lookup_key")
    return holder


async def create_price(request: web.Request) -> web.Response:
    params = await post_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, PRICE_CREATE)
    recurring = params.get("recurring")
    if not isinstance(recurring, dict) or "interval" not in recurring:
        raise invalid("The local Stripe has recurring prices only: give recurring[interval].")
    product = params.get("product") or params.get("product_data")
    for name, value in (("product", product), ("currency", params.get("currency"))):
        if value is None:
            raise invalid(f"Missing required param: {name}.", name)
    if params.get("unit_amount") is None:
        raise invalid("The local Stripe needs unit_amount on a price.", "unit_amount")
    transfer = try_convert_to_bool(params.get("transfer_lookup_key", False)) is True
    lookup_key = params.get("lookup_key")
    holder = _check_lookup_key(lookup_key, transfer)
    plan = Plan(
        id="price_" + random_id(24),
        amount=params.get("unit_amount"),
        currency=params.get("currency"),
        product=product,
        interval=recurring["interval"],
        interval_count=recurring.get("interval_count", 1),
        usage_type=recurring.get("usage_type", "licensed"),
        nickname=params.get("nickname"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
        active=params.get("active", True),
    )
    if holder is not None:
        setattr(holder, LOOKUP_KEY, None)
    setattr(plan, LOOKUP_KEY, lookup_key)
    send_event("price.created", PriceView(plan))
    return json_response(PriceView(plan)._export(expand))


async def retrieve_price(request: web.Request) -> web.Response:
    expand = query_params(request).get("expand")
    return json_response(PriceView(price_plan(request.match_info["id"], "id"))._export(expand))


async def update_price(request: web.Request) -> web.Response:
    plan = price_plan(request.match_info["id"], "id")
    params = await post_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, PRICE_UPDATE)
    before = price_of(plan)
    if "lookup_key" in params:
        key = params["lookup_key"] or None  # "" removes the key
        transfer = try_convert_to_bool(params.get("transfer_lookup_key", False)) is True
        holder = _check_lookup_key(key, transfer, owner=plan)
        if holder is not None:
            setattr(holder, LOOKUP_KEY, None)
        setattr(plan, LOOKUP_KEY, key)
    if "active" in params:
        active = try_convert_to_bool(params["active"])
        if not isinstance(active, bool):
            raise invalid("Invalid boolean", "active")
        plan.active = active
    if "nickname" in params:
        plan.nickname = params["nickname"] or None
    if "metadata" in params:
        plan.metadata = merge_metadata(plan.metadata, params["metadata"])
    previous = changed(before, price_of(plan))
    if previous:
        send_event("price.updated", PriceView(plan), previous)
    return json_response(PriceView(plan)._export(expand))


async def list_prices(request: web.Request) -> web.Response:
    params = query_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, PRICE_LIST)
    active = try_convert_to_bool(params.get("active"))
    lookup_keys = params.get("lookup_keys")
    if isinstance(lookup_keys, str):
        lookup_keys = [lookup_keys]
    one_time_only = params.get("type") == "one_time"  # there are none locally
    plans = [
        plan
        for plan in reversed(_plans())  # newest first, as Stripe lists
        if not one_time_only
        and (active is None or plan.active == active)
        and (params.get("product") is None or plan.product == params["product"])
        and (params.get("currency") is None or plan.currency == params["currency"])
        and (lookup_keys is None or getattr(plan, LOOKUP_KEY, None) in lookup_keys)
    ]
    plans.sort(key=lambda plan: plan.created, reverse=True)
    listing = List(
        "/v1/prices", limit=params.get("limit"), starting_after=params.get("starting_after")
    )
    listing._list = [PriceView(plan) for plan in plans]
    return json_response(listing._export(expand=expand))


def plans_from_prices(items: Any) -> Any:
    """Subscription items name a price; localstripe wants the plan, which has the same id."""
    if not isinstance(items, list):
        return items
    for item in items:
        if isinstance(item, dict) and "price" in item:
            if "plan" in item:
                raise invalid("You may only specify one of these parameters: plan, price.")
            item["plan"] = item.pop("price")
            price_plan(item["plan"])
        if isinstance(item, dict) and "price_data" in item:
            raise invalid("The local Stripe does not support price_data: create a price first.")
    return items


# --- Subscriptions -----------------------------------------------------------------------

PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
# Accepted so production calls work; localstripe has no incomplete-payment modes on update.
IGNORED_ON_UPDATE = ("payment_behavior",)


async def create_subscription(request: web.Request) -> web.Response:
    params = await post_params(request)
    expand = params.pop("expand", None)
    if "items" in params:
        params["items"] = plans_from_prices(params["items"])
    return json_response(Subscription._api_create(**params)._export(expand=expand))


async def update_subscription(request: web.Request) -> web.Response:
    """Modify a subscription the way Stripe does; localstripe does the plan bookkeeping."""
    params = await post_params(request)
    expand = params.pop("expand", None)
    behavior = params.pop("proration_behavior", "create_prorations")
    if behavior not in PRORATION_BEHAVIORS:
        raise invalid(f"Invalid proration_behavior: {behavior}", "proration_behavior")
    for key in IGNORED_ON_UPDATE:
        params.pop(key, None)
    metadata = params.pop("metadata", None)
    if "items" in params:
        params["items"] = plans_from_prices(params["items"])

    reject_unknown(params, inspect.signature(Subscription._update).parameters.keys() - {"self"})
    sub = Subscription._api_retrieve(request.match_info["id"])
    before = sub._export()
    old_item = sub.items._list[0]
    old_period = old_item._current_period()
    pending_before = {item.id for item in pending_items(sub.customer)}
    if params:
        sub._update(**params)

    new_item = sub.items._list[0]
    if new_item is not old_item:
        _keep_item_id(old_item, new_item)
        # localstripe credits every past invoice in full ("Unused time"); Stripe prorates.
        for item in pending_items(sub.customer):
            if item.id not in pending_before and item.subscription == sub.id:
                del store[f"invoiceitem:{item.id}"]
        same_cycle = (old_item.plan.interval, old_item.plan.interval_count) == (
            new_item.plan.interval,
            new_item.plan.interval_count,
        )
        plan_or_quantity_changed = (old_item.plan.id, old_item.quantity) != (
            new_item.plan.id,
            new_item.quantity,
        )
        if same_cycle and plan_or_quantity_changed and behavior != "none":
            _prorate(sub, old_item, new_item, old_period)
            if behavior == "always_invoice":
                invoice = new_invoice(sub.customer, sub.id, include_pending=True)
                invoice.billing_reason = "subscription_update"
                collect(invoice)

    if metadata is not None:
        sub.metadata = merge_metadata(sub.metadata, metadata)
    if "cancel_at_period_end" in params and "cancel_at" not in params:
        ending = sub.cancel_at_period_end
        sub.cancel_at = sub.current_period_end if ending else None
        sub.canceled_at = int(time.time()) if ending else None

    previous = changed(before, sub._export())
    if previous:
        send_event("customer.subscription.updated", sub, previous)
    return json_response(sub._export(expand=expand))


def _keep_item_id(old_item: Any, new_item: Any) -> None:
    """Stripe keeps a subscription item's id across a price change; localstripe makes a new one."""
    del store[f"subscription_item:{new_item.id}"]
    new_item.id = old_item.id
    store[f"subscription_item:{old_item.id}"] = new_item


def _prorate(sub: Any, old_item: Any, new_item: Any, period: dict[str, int]) -> None:
    """Stripe's two proration items for the rest of the current period."""
    now = int(time.time())
    start, end = period["start"], period["end"]
    fraction = max(0, end - now) / max(1, end - start)
    since = datetime.fromtimestamp(now, UTC).strftime("%d %b %Y")
    for item, sign, wording in ((old_item, -1, "Unused time"), (new_item, 1, "Remaining time")):
        product = Product._api_retrieve(item.plan.product).name
        InvoiceItem(
            customer=sub.customer,
            subscription=sub.id,
            plan=item.plan.id,
            amount=sign * round(item.plan.amount * item.quantity * fraction),
            currency=item.plan.currency,
            proration=True,
            description=f"{wording} on {product} after {since}",
            period_start=now,
            period_end=end,
        )


# --- Invoices ----------------------------------------------------------------------------

INVOICE_CREATE = {
    "auto_advance",
    "collection_method",
    "customer",
    "description",
    "metadata",
    "pending_invoice_items_behavior",
    "subscription",
}
INVOICE_LIST = {"created", "customer", "limit", "starting_after", "status", "subscription"}
# Stripe's range filter on ``created``; localstripe has none for invoices.
CREATED_RANGE = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
_SET_ASIDE = "in_compat_set_aside"  # marks pending items an invoice must not pick up


def pending_items(customer: Any) -> list[Any]:
    return [
        obj
        for key, obj in store.items()
        if key.startswith("invoiceitem:") and obj.customer == customer and obj.invoice is None
    ]


@contextmanager
def _set_aside(items: list[Any]) -> Iterator[None]:
    """Hide pending items from localstripe's Invoice, which otherwise takes all of them."""
    for item in items:
        item.invoice = _SET_ASIDE
    try:
        yield
    finally:
        for item in items:
            item.invoice = None


def new_invoice(
    customer: Any, subscription: str | None, *, include_pending: bool, **fields: Any
) -> Any:
    """A draft invoice of pending items only (with a subscription: that subscription's)."""
    others = [
        item
        for item in pending_items(customer)
        if not include_pending or (subscription is not None and item.subscription != subscription)
    ]
    with _set_aside(others):
        return Invoice(customer=customer, subscription=subscription, **fields)


def collect(invoice: Any) -> None:
    """Finalize and charge the customer's default payment method, as Stripe does at once."""
    invoice._finalize()
    if invoice.total <= 0:
        invoice._on_payment_success()
        return
    Invoice._api_pay_invoice(invoice.id)
    if invoice.status == "open":  # declined: localstripe stays silent, Stripe does not
        invoice._on_payment_failure_now()


async def create_invoice(request: web.Request) -> web.Response:
    params = await post_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, INVOICE_CREATE)
    behavior = params.get("pending_invoice_items_behavior", "exclude")
    if behavior not in ("include", "exclude"):
        raise invalid("Invalid pending_invoice_items_behavior", "pending_invoice_items_behavior")
    if params.get("customer") is None:
        raise invalid("Missing required param: customer.", "customer")
    if params.get("collection_method", "charge_automatically") != "charge_automatically":
        raise invalid("The local Stripe charges invoices automatically only.", "collection_method")
    invoice = new_invoice(
        params.get("customer"),
        params.get("subscription"),
        include_pending=behavior == "include",
        description=params.get("description"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
    )
    invoice.billing_reason = "manual"
    invoice.auto_advance = try_convert_to_bool(params.get("auto_advance", False)) is True
    return json_response(invoice._export(expand=expand))


async def finalize_invoice(request: web.Request) -> web.Response:
    params = await post_params(request)
    invoice = Invoice._api_retrieve(request.match_info["id"])
    if invoice.status != "draft":
        raise invalid(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice."
        )
    invoice._finalize()
    send_event("invoice.finalized", invoice)
    if invoice.total <= 0:
        invoice._on_payment_success()
    return json_response(invoice._export(expand=params.get("expand")))


async def pay_invoice(request: web.Request) -> web.Response:
    """localstripe's pay, but a declined card is Stripe's 402 and ``invoice.payment_failed``
    (localstripe leaves the invoice open and says nothing)."""
    params = await post_params(request)
    invoice = Invoice._api_pay_invoice(request.match_info["id"])
    if invoice.status == "open":
        invoice._on_payment_failure_now()
        raise UserError(402, "Your card was declined.", {"code": "card_declined"})
    return json_response(invoice._export(expand=params.get("expand")))


async def void_invoice(request: web.Request) -> web.Response:
    """Void as Stripe does: only a first invoice ends its subscription (localstripe ends it
    for any), a past-due subscription with nothing left due is active again, and
    ``invoice.voided`` is sent."""
    params = await post_params(request)
    invoice = Invoice._api_retrieve(request.match_info["id"])
    subscription = (
        Subscription._api_retrieve(invoice.subscription) if invoice.subscription else None
    )
    if subscription is None or subscription.status == "incomplete":
        Invoice._api_void_invoice(invoice.id)
    else:
        if invoice.status not in ("draft", "open"):
            raise invalid("You can only void draft or open invoices.")
        if invoice.payment_intent:
            PaymentIntent._api_cancel(invoice.payment_intent)
        invoice._draft = False
        invoice._voided = True
        invoice.status_transitions["voided_at"] = int(time.time())
        if subscription.status == "past_due":
            subscription.status = "active"
    send_event("invoice.voided", invoice)
    return json_response(invoice._export(expand=params.get("expand")))


async def list_invoices(request: web.Request) -> web.Response:
    params = query_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, INVOICE_LIST)
    status = params.pop("status", None)
    if status is not None and status not in INVOICE_STATUSES:
        raise invalid(f"Invalid status: must be one of {', '.join(INVOICE_STATUSES)}", "status")
    created = params.pop("created", None)
    if created is not None and (
        not isinstance(created, dict) or not set(created) <= set(CREATED_RANGE)
    ):
        raise invalid("Invalid created: use gt, gte, lt or lte", "created")
    listing = Invoice._api_list_all("/v1/invoices", **params)
    if status is not None:
        listing._list = [invoice for invoice in listing._list if invoice.status == status]
    for operator, bound in (created or {}).items():
        limit = try_convert_to_int(bound)
        if not isinstance(limit, int):
            raise invalid("Invalid integer", f"created[{operator}]")
        compare = CREATED_RANGE[operator]
        listing._list = [invoice for invoice in listing._list if compare(invoice.created, limit)]
    return json_response(listing._export(expand=expand))


async def preview_invoice(request: web.Request) -> web.Response:
    """localstripe's preview, accepting ``price`` in ``subscription_details.items``."""
    params = await post_params(request)
    expand = params.pop("expand", None)
    details = params.get("subscription_details")
    if isinstance(details, dict):
        details.pop("proration_behavior", None)
        plans_from_prices(details.get("items"))
    return json_response(Invoice._api_create_preview_invoice(**params)._export(expand=expand))


# --- Refunds and invoice payments --------------------------------------------------------

REFUND_CREATE = {"amount", "charge", "metadata", "payment_intent", "reason"}
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
INVOICE_PAYMENT_LIST = {"invoice", "limit", "payment", "starting_after", "status"}


def _charge_of(params: dict[str, Any]) -> Any:
    if params.get("payment_intent") is not None:
        intent = PaymentIntent._api_retrieve(str(params["payment_intent"]))
        if intent.latest_charge is None:
            raise invalid("This PaymentIntent has no successful charge to refund.")
        return intent.latest_charge
    if params.get("charge") is None:
        raise invalid("Missing required param: charge or payment_intent.")
    return Charge._api_retrieve(str(params["charge"]))


async def create_refund(request: web.Request) -> web.Response:
    """Refund what is left of a payment (or ``amount`` of it) and send ``charge.refunded``."""
    params = await post_params(request)
    expand = params.pop("expand", None)
    reject_unknown(params, REFUND_CREATE)
    reason = params.get("reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", "reason")
    charge = _charge_of(params)
    left = charge.amount - charge.amount_refunded
    amount = try_convert_to_int(params.get("amount", left))
    if left <= 0:
        raise UserError(
            400,
            f"Charge {charge.id} has already been refunded.",
            {"code": "charge_already_refunded"},
        )
    if not isinstance(amount, int) or not 0 < amount <= left:
        raise invalid(f"Refund amount must be between 1 and {left}.", "amount")
    refund = Refund(
        charge=charge.id,
        amount=amount,
        metadata=merge_metadata({}, params.get("metadata") or {}),
    )
    refund.payment_intent = charge.payment_intent
    refund.reason = reason
    send_event("charge.refunded", charge)
    return json_response(refund._export(expand=expand))


def _invoice_payment(invoice: Any) -> dict[str, Any]:
    paid = invoice.status == "paid"
    return {
        "id": f"inpay_{invoice.id[3:]}",
        "object": "invoice_payment",
        "amount_paid": invoice.amount_paid if paid else None,
        "amount_requested": invoice.amount_due,
        "created": invoice.created,
        "currency": invoice.currency,
        "invoice": invoice.id,
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": invoice.payment_intent},
        "status": "paid" if paid else "open",
        "status_transitions": {"paid_at": invoice.status_transitions.get("paid_at")},
    }


async def list_invoice_payments(request: web.Request) -> web.Response:
    """The payments of invoices paid through a payment intent (localstripe's only kind)."""
    params = query_params(request)
    reject_unknown(params, INVOICE_PAYMENT_LIST)
    payment = params.get("payment") or {}
    if not isinstance(payment, dict):
        raise invalid("Invalid object", "payment")
    invoices = [
        obj
        for key, obj in store.items()
        if key.startswith("invoice:")
        and obj.payment_intent
        and params.get("invoice") in (None, obj.id)
        and payment.get("payment_intent") in (None, obj.payment_intent)
    ]
    found = [_invoice_payment(invoice) for invoice in invoices]
    if params.get("status") is not None:
        found = [item for item in found if item["status"] == params["status"]]
    found.sort(key=lambda item: item["created"], reverse=True)
    return json_response(
        {"object": "list", "url": "/v1/invoice_payments", "has_more": False, "data": found}
    )


# --- Patches to localstripe's classes ----------------------------------------------------

_patched = False


def _item_price(item: Any) -> dict[str, Any] | None:
    return price_of(item.plan) if item.plan is not None else None


def _item_period(item: Any, edge: str) -> int | None:
    try:
        return int(item._current_period()[edge])
    except UserError:  # the subscription is gone
        return None


def install_patches() -> None:
    """Add what the current Stripe API shows and localstripe does not; idempotent."""
    global _patched
    if _patched:
        return
    _patched = True
    for cls in (SubscriptionItem, InvoiceLineItem, InvoiceItem):
        cls.price = property(_item_price)
    # The current API keeps the period on the items; localstripe only on the subscription.
    SubscriptionItem.current_period_start = property(lambda item: _item_period(item, "start"))
    SubscriptionItem.current_period_end = property(lambda item: _item_period(item, "end"))

    on_payment_success = Invoice._on_payment_success

    def _on_payment_success_and_paid(invoice: Any) -> None:
        on_payment_success(invoice)
        send_event("invoice.paid", invoice)

    Invoice._on_payment_success = _on_payment_success_and_paid


# --- Idempotency keys --------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    fingerprint: str
    status: int
    body: bytes


def idempotency_middleware(capacity: int = 10_000) -> Any:
    """Replay the first answer to a POST with the same ``Idempotency-Key``, as Stripe does."""
    answers: dict[tuple[str, str], _Answer] = {}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        body = await request.read()
        fingerprint = hashlib.sha256(request.path_qs.encode() + b"\n" + body).hexdigest()
        slot = (request.headers.get("Authorization", ""), key)
        answer = answers.get(slot)
        if answer is not None:
            if answer.fingerprint != fingerprint:
                message = (
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request."
                )
                error = {"type": "idempotency_error", "message": message}
                return json_response({"error": error}, status=400)
            headers = {"Idempotency-Key": key, "Idempotent-Replayed": "true"}
            return web.Response(
                body=answer.body,
                status=answer.status,
                headers=headers,
                content_type="application/json",
            )
        try:
            response = await handler(request)
        except UserError as error:
            response = error.to_response()
        sent = response.body if isinstance(response, web.Response) else None
        if isinstance(sent, (bytes, bytearray)) and response.status < 500:
            if len(answers) >= capacity:
                answers.pop(next(iter(answers)))
            answers[slot] = _Answer(fingerprint, response.status, bytes(sent))
        return response

    return middleware


ROUTES: list[Route] = [
    ("POST", "/v1/prices", create_price),
    ("GET", "/v1/prices", list_prices),
    ("GET", "/v1/prices/{id}", retrieve_price),
    ("POST", "/v1/prices/{id}", update_price),
    ("POST", "/v1/subscriptions", create_subscription),
    ("POST", "/v1/subscriptions/{id}", update_subscription),
    ("POST", "/v1/invoices", create_invoice),
    ("GET", "/v1/invoices", list_invoices),
    ("POST", "/v1/invoices/create_preview", preview_invoice),
    ("POST", "/v1/invoices/{id}/finalize", finalize_invoice),
    ("POST", "/v1/invoices/{id}/pay", pay_invoice),
    ("POST", "/v1/invoices/{id}/void", void_invoice),
    ("POST", "/v1/refunds", create_refund),
    ("GET", "/v1/invoice_payments", list_invoice_payments),
]
