"""A database made ready to serve: the migrations, the plan catalogue, and (once a local
Stripe answers) the catalogue's products and prices at Stripe, all in one process run with
the stack's settings."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

from devtools.stack.processes import PYTHON, ROOT, Log

_SCRIPT = """
from flask_migrate import upgrade
from app import create_app
from app.services import catalog, stripe_catalog
with create_app().app_context():
    if {migrate}:
        upgrade(directory="migrations")
        catalog.load()
    if {sync_stripe}:
        stripe_catalog.sync()
"""


def _run(env: Mapping[str, str], log: Log, *, migrate: bool, sync_stripe: bool) -> None:
    script = _SCRIPT.format(migrate=migrate, sync_stripe=sync_stripe)
    command = [PYTHON, "-c", script]
    subprocess.run(
        command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, check=True
    )


def prepare(env: Mapping[str, str], log: Log = None, *, sync_stripe: bool = True) -> None:
    """Migrations and the catalogue; with ``sync_stripe``, its prices at the local Stripe
    (which must answer)."""
    _run(env, log, migrate=True, sync_stripe=sync_stripe)


def sync_stripe_catalog(env: Mapping[str, str], log: Log = None) -> None:
    """The catalogue's products and prices at Stripe (``flask billing sync-catalog``)."""
    _run(env, log, migrate=False, sync_stripe=True)
