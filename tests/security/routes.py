"""Every route of the app, classified: who may call it, what each party gets, and a request
that would succeed for a party allowed to make it.

The table is keyed by ``"METHOD rule"`` exactly as the URL map spells it. A route missing
from it, or an entry whose route is gone, fails ``test_every_route_has_a_rule``: a new route
must be classified before it ships.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask

from tests.security.world import PARTIES, World
from tests.support.api import PASSWORD
from tests.support.ssh import public_key

IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NEW_PASSWORD = "a different long password"
_emails = itertools.count(1)

BodyFactory = Callable[[World], Any]
QueryFactory = Callable[[World], dict[str, Any]]


def _fresh_email(_: World) -> dict[str, str]:
    return {"email": f"matrix{next(_emails)}@example.com", "password": PASSWORD}


@dataclass(frozen=True)
class Rule:
    """What each party gets from one route, and what to send it."""

    kind: str
    expect: dict[str, int]
    body: BodyFactory | None = None
    query: QueryFactory | None = None
    needs_stripe: bool = False
    note: str = ""


def public(status: int, body: BodyFactory | None = None, note: str = "") -> Rule:
    """Anyone, signed in or not, gets the same answer."""
    return Rule("public", dict.fromkeys(PARTIES, status), body, note=note)


def signed_in(
    status: int,
    body: BodyFactory | None = None,
    *,
    query: QueryFactory | None = None,
    needs_stripe: bool = False,
    note: str = "",
) -> Rule:
    """Any signed-in caller, about their own account; anonymous callers get 401."""
    expect = dict.fromkeys(PARTIES, status) | {"anonymous": 401}
    return Rule("account", expect, body, query, needs_stripe=needs_stripe, note=note)


def owned(status: int, body: BodyFactory | None = None, query: QueryFactory | None = None) -> Rule:
    """The owner's object: anyone else gets 404 (its existence is not revealed), 401 if
    not signed in. Staff and admins have no extra rights over customers' machines."""
    expect = {"anonymous": 401, "stranger": 404, "staff": 404, "admin": 404, "owner": status}
    return Rule("owned", expect, body, query)


def staff_only(
    status: int, body: BodyFactory | None = None, query: QueryFactory | None = None
) -> Rule:
    """Staff and admins; customers get 403, anonymous callers 401."""
    expect = {"anonymous": 401, "stranger": 403, "owner": 403, "staff": status, "admin": status}
    return Rule("staff", expect, body, query)


def admin_only(
    status: int,
    body: BodyFactory | None = None,
    query: QueryFactory | None = None,
    *,
    owner: int = 403,
    note: str = "",
) -> Rule:
    """Admins only (money, destruction, roles); staff and customers get 403. ``owner``:
    what the owner gets after the admin acted on their account (401 once signed out)."""
    expect = {"anonymous": 401, "stranger": 403, "owner": owner, "staff": 403, "admin": status}
    return Rule("admin", expect, body, query, note=note)


def staff_then_admin(staff: int, admin: int, body: BodyFactory, note: str) -> Rule:
    """A staff action that the admin, asking after the staff member, finds done."""
    expect = {"anonymous": 401, "stranger": 403, "owner": 403, "staff": staff, "admin": admin}
    return Rule("staff", expect, body, note=note)


def credential_only(status: int, body: BodyFactory, note: str) -> Rule:
    """Callers that are machines: a session, whoever's, is no credential here."""
    return Rule("machine", dict.fromkeys(PARTIES, status), body, note=note)


def _instance(world: World) -> dict[str, Any]:
    return {"instance_id": world.instance_id}


def _plan_change(world: World) -> dict[str, Any]:
    return {"instance_id": world.instance_id, "new_plan": "performance"}


def _page(world: World) -> dict[str, Any]:
    return {"page": 1, "per_page": 20}


def _typed_name(body: dict[str, Any]) -> BodyFactory:
    """``body`` with the machine's name typed to confirm (a reinstall, a restore)."""
    return lambda world: {**body, "confirm": f"nemordp-{world.instance_id}"}


def _reason(world: World) -> dict[str, Any]:
    return {"reason": "Customer asked on ticket 42."}


RULES: dict[str, Rule] = {
    # -- dashboard pages, assets, documents: public shells, data comes from the API --------
    "GET /": public(302),
    "GET /app": public(200),
    "GET /app/<path:subpath>": public(200),
    "GET /login": public(200),
    "GET /signup": public(200),
    "GET /reset-password": public(200),
    "GET /confirm-email": public(200),
    "GET /help": public(200),
    "GET /help/<slug>": public(200),
    "GET /instances/<int:instance_id>": public(302, note="a redirect; the page asks the API"),
    "GET /support/tickets/<int:ticket_id>": public(302, note="a redirect"),
    "GET /staff/tickets/<int:ticket_id>": public(302, note="a redirect"),
    "GET /static/<path:filename>": public(200),
    "GET /static/build/<path:filename>": public(
        404, note="the world's file is a source, not a bundle; tests/web serves the bundles"
    ),
    "GET /metrics": public(200, note="open in test; token or networks in production"),
    "GET /api/openapi.json": public(200),
    "GET /api/health": public(200),
    "GET /api/plans": public(200),
    "GET /api/support/faq": public(200),
    # -- signing in and account recovery: public by nature ---------------------------------
    "POST /api/auth/signup": public(201, _fresh_email),
    "POST /api/auth/login": public(
        200,
        lambda w: {"email": w.owner.email, "password": PASSWORD, "remember": True},
        note="right password",
    ),
    "POST /api/auth/login/2fa": public(
        401, lambda w: {"challenge": "forged", "code": "123456"}, note="a forged challenge"
    ),
    "POST /api/account/password/reset": public(
        202, lambda w: {"email": w.owner.email}, note="same answer for any address"
    ),
    "POST /api/account/password/reset/confirm": public(
        400, lambda w: {"token": "forged", "password": NEW_PASSWORD}, note="a forged link"
    ),
    "POST /api/account/email/confirm": public(
        400, lambda w: {"token": "forged"}, note="a forged link"
    ),
    # -- machines' and Stripe's own credentials ---------------------------------------------
    "POST /api/agent/heartbeat": credential_only(
        401,
        lambda w: {"instance_id": w.instance_id, "sessions": 1, "agent_version": "1.0.0"},
        "the machine's agent token only",
    ),
    "POST /api/billing/webhook": credential_only(
        400, lambda w: {"id": "evt_forged", "type": "invoice.paid"}, "Stripe's signature only"
    ),
    # -- the caller's own account ------------------------------------------------------------
    "POST /api/auth/logout": signed_in(204),
    "GET /api/auth/me": signed_in(200),
    "GET /api/auth/profile": signed_in(200),
    "PUT /api/auth/profile": signed_in(
        200, lambda w: {"full_name": "Ada Lovelace", "preferences": {"default_os": "linux"}}
    ),
    "GET /api/auth/tokens": signed_in(200),
    "POST /api/auth/tokens": signed_in(201, lambda w: {"name": "laptop"}),
    "GET /api/account/preferences": signed_in(200),
    "PUT /api/account/preferences": signed_in(
        200,
        lambda w: {
            "email_notifications": False,
            "auto_shutdown": True,
            "idle_minutes": 60,
            "default_os": "linux",
        },
    ),
    "POST /api/account/password": signed_in(
        204, lambda w: {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    ),
    "POST /api/account/email": signed_in(
        202, lambda w: {"new_email": f"moved{next(_emails)}@example.com", "password": PASSWORD}
    ),
    "GET /api/account/2fa": signed_in(200),
    "POST /api/account/2fa/setup": signed_in(200, lambda w: {"password": PASSWORD}),
    "POST /api/account/2fa/confirm": signed_in(
        409, lambda w: {"code": "123456"}, note="no set-up begun"
    ),
    "POST /api/account/2fa/disable": signed_in(
        409, lambda w: {"password": PASSWORD, "code": "123456"}, note="two-factor is off"
    ),
    "POST /api/account/2fa/recovery-codes": signed_in(
        409, lambda w: {"code": "123456"}, note="two-factor is off"
    ),
    "GET /api/account/export": signed_in(200),
    "POST /api/account/delete": signed_in(202, lambda w: {"password": PASSWORD}),
    "GET /api/billing/subscription": signed_in(200),
    "GET /api/billing/invoices": signed_in(200, query=_page),
    "GET /api/instances": signed_in(200, query=_page),
    "POST /api/instances": signed_in(
        202,
        lambda w: {"plan": "basic", "os_type": "linux", "region": "us-east"},
        needs_stripe=True,
    ),
    "GET /api/account/ssh-keys": signed_in(200),
    "POST /api/account/ssh-keys": signed_in(
        201, lambda w: {"name": "desk", "public_key": public_key()}
    ),
    "GET /api/support/tickets": signed_in(200, query=lambda w: {**_page(w), "status": "open"}),
    "POST /api/support/tickets": signed_in(
        201, lambda w: {"subject": "Slow", "priority": "low", "message": "Laggy desktop."}
    ),
    # -- the owner's objects -----------------------------------------------------------------
    "GET /api/instances/<int:instance_id>": owned(200),
    "DELETE /api/instances/<int:instance_id>": owned(202),
    "POST /api/instances/<int:instance_id>/restart": owned(202),
    "POST /api/instances/<int:instance_id>/stop": owned(202),
    "POST /api/instances/<int:instance_id>/start": owned(409),  # it is running already
    "GET /api/instances/<int:instance_id>/jobs": owned(200),
    "GET /api/instances/<int:instance_id>/rdp-file": owned(200),
    "GET /api/instances/<int:instance_id>/credentials": owned(200),
    "GET /api/instances/<int:instance_id>/usage": owned(200, query=lambda w: {"days": 30}),
    "POST /api/instances/<int:instance_id>/reinstall": owned(202, _typed_name({"os": "linux"})),
    "POST /api/instances/<int:instance_id>/console": owned(201),
    "GET /api/instances/<int:instance_id>/snapshots": owned(200),
    "POST /api/instances/<int:instance_id>/snapshots": owned(202, lambda w: {"name": "nightly"}),
    "POST /api/instances/<int:instance_id>/snapshots/<int:snapshot_id>/restore": owned(
        202, _typed_name({})
    ),
    "DELETE /api/instances/<int:instance_id>/snapshots/<int:snapshot_id>": owned(202),
    "DELETE /api/account/ssh-keys/<int:key_id>": owned(204),
    "GET /api/jobs/<int:job_id>": owned(200),
    "DELETE /api/auth/tokens/<int:token_id>": owned(204),
    "POST /api/billing/cancel-subscription": owned(202, _instance),
    "GET /api/billing/upgrade-preview": owned(200, query=_plan_change),
    "POST /api/billing/upgrade-plan": owned(202, _plan_change),
    "GET /api/support/tickets/<int:ticket_id>": owned(200),
    "POST /api/support/tickets/<int:ticket_id>/replies": owned(
        201, lambda w: {"message": "Still broken."}
    ),
    "POST /api/support/tickets/<int:ticket_id>/close": owned(200),
    "POST /api/support/tickets/<int:ticket_id>/reopen": owned(200),
    # -- the staff queue ---------------------------------------------------------------------
    "GET /api/support/staff/tickets": staff_only(
        200, query=lambda w: {**_page(w), "status": "open", "priority": "medium"}
    ),
    "GET /api/support/staff/tickets/<int:ticket_id>": staff_only(200),
    "PATCH /api/support/staff/tickets/<int:ticket_id>": staff_only(
        200, lambda w: {"status": "waiting_on_customer", "priority": "high"}
    ),
    "POST /api/support/staff/tickets/<int:ticket_id>/replies": staff_only(
        201, lambda w: {"message": "Looking into it.", "status": "waiting_on_customer"}
    ),
    # -- the operator console: staff read and take reversible actions, admins the rest ------
    "GET /api/admin/overview": staff_only(200),
    "GET /api/admin/customers": staff_only(
        200, query=lambda w: {**_page(w), "q": "owner", "role": "customer"}
    ),
    "GET /api/admin/customers/<int:user_id>": staff_only(200),
    "POST /api/admin/customers/<int:user_id>/logins/<int:login_id>/revoke": staff_then_admin(
        200, 409, _reason, "the owner's other sign-in; ended by staff already"
    ),
    "POST /api/admin/customers/<int:user_id>/tokens/<int:token_id>/revoke": staff_then_admin(
        200, 409, _reason, "revoked by staff already"
    ),
    "POST /api/admin/customers/<int:user_id>/suspend": admin_only(
        200, _reason, owner=401, note="the suspension signs the owner out"
    ),
    "POST /api/admin/customers/<int:user_id>/unsuspend": admin_only(
        409, _reason, note="not suspended"
    ),
    "PUT /api/admin/customers/<int:user_id>/role": admin_only(
        200, lambda w: {"role": "staff", "reason": "Joins support."}
    ),
    "GET /api/admin/instances": staff_only(
        200,
        query=lambda w: {
            **_page(w),
            "status": "active",
            "provider": "vultr",
            "region": "us-east",
            "plan": "basic",
            "owner": w.owner.user_id,
            "idle_hours": 1,
            "failed": False,
        },
    ),
    "GET /api/admin/instances/<int:instance_id>": staff_only(200),
    "GET /api/admin/instances/<int:instance_id>/jobs": staff_only(200),
    "POST /api/admin/instances/<int:instance_id>/restart": staff_only(202, _reason),
    "POST /api/admin/instances/<int:instance_id>/stop": staff_only(202, _reason),
    "POST /api/admin/instances/<int:instance_id>/start": staff_only(409, _reason),
    "POST /api/admin/instances/<int:instance_id>/terminate": admin_only(202, _reason),
    "GET /api/admin/jobs": staff_only(200, query=lambda w: {**_page(w), "state": "failed"}),
    "POST /api/admin/jobs/<int:job_id>/retry": staff_only(409, _reason),  # it succeeded
    "POST /api/admin/jobs/<int:job_id>/abandon": admin_only(409, _reason),
    "GET /api/admin/reconciliation/findings": admin_only(
        200, query=lambda w: {**_page(w), "open": True}
    ),
    "POST /api/admin/reconciliation/findings/<int:finding_id>/adopt": admin_only(200, _reason),
    "POST /api/admin/reconciliation/findings/<int:finding_id>/destroy": admin_only(200, _reason),
    "GET /api/admin/billing/dunning": staff_only(200),
    "POST /api/admin/billing/invoices/<int:invoice_id>/refund": admin_only(
        409, lambda w: {"amount_cents": 100, "reason": "Goodwill."}, note="the invoice is unpaid"
    ),
    "POST /api/admin/billing/subscriptions/<int:subscription_id>/cancel": admin_only(
        202, lambda w: {"when": "period_end", "reason": "Customer asked."}
    ),
    "GET /api/admin/catalogue": staff_only(200),
    "PATCH /api/admin/catalogue/plans/<int:plan_id>": admin_only(
        200, lambda w: {"closed_regions": [], "reason": "Every region open."}
    ),
    "POST /api/admin/catalogue/regions": admin_only(
        200, lambda w: {"region": "us-east", "open": True, "reason": "Open again."}
    ),
    "GET /api/admin/audit": admin_only(
        200,
        query=lambda w: {
            **_page(w),
            "actor": w.owner.user_id,
            "action": "admin.*",
            "target_type": "user",
            "target_id": str(w.owner.user_id),
            "customer": w.owner.user_id,
            "since": "2020-01-01T00:00:00+00:00",
            "until": "2100-01-01T00:00:00+00:00",
        },
    ),
    "GET /api/admin/audit/export": admin_only(200, query=lambda w: {"action": "admin.*"}),
}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    arguments: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.method} {self.rule}"

    def path(self, world: World) -> str:
        """The rule with every path parameter replaced by the world's object."""
        values = world.path_values()
        missing = [name for name in self.arguments if name not in values]
        assert not missing, f"{self.key}: no object for path parameters {missing}"
        path = self.rule
        for part in self.rule.split("<")[1:]:
            converter_and_name = part.split(">", 1)[0]
            name = converter_and_name.rpartition(":")[2]
            path = path.replace(f"<{converter_and_name}>", str(values[name]))
        return path


def routes(app: Flask) -> Iterator[Route]:
    """Every (method, rule) the app serves."""
    for url_rule in app.url_map.iter_rules():
        for method in sorted((url_rule.methods or set()) - IGNORED_METHODS):
            yield Route(method, url_rule.rule, tuple(sorted(url_rule.arguments)))


def caller_of(rule: Rule) -> str:
    """The party for whom a route's request succeeds (staff for the staff queue and the
    console's staff routes, an admin for the admin-only ones)."""
    return rule.kind if rule.kind in ("staff", "admin") else "owner"


def body_rules() -> list[str]:
    """The keys of the API routes that take a JSON body."""
    return sorted(key for key, rule in RULES.items() if rule.body is not None)


def input_rules() -> list[str]:
    """The keys of the API routes that take a JSON body or query parameters."""
    return sorted(key for key, rule in RULES.items() if rule.body or rule.query)


def route_for(app: Flask, key: str) -> Route:
    found = [route for route in routes(app) if route.key == key]
    assert found, f"{key} is in the rule table but the app has no such route"
    return found[0]


def operation_key(rule_key: str) -> str:
    """``GET /api/x/<int:x_id>`` as the OpenAPI document spells it: ``GET /api/x/{x_id}``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule_key)
