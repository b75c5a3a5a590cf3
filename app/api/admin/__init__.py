"""The operator console's JSON API under /api/admin.

Customers get 403 everywhere here. Staff (support) read what a ticket needs and take the
actions that undo themselves (restart, stop, start, retry, ending a sign-in); admins also
handle money, destruction and roles. Every action takes a reason and is audited
(`app.services.admin_audit`).
"""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.admin import (
    audit,
    billing,
    catalogue,
    customers,
    jobs,
    machines,
    overview,
    reconciliation,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    overview.blp,
    customers.blp,
    machines.blp,
    jobs.blp,
    reconciliation.blp,
    billing.blp,
    catalogue.blp,
    audit.blp,
)
