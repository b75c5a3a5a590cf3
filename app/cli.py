"""Operator commands: ``flask catalog load`` and friends."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.config_cli import config_cli
from app.instances_cli import instances_cli, jobs_cli
from app.keys_cli import keys_cli
from app.services import catalog, stripe_catalog
from app.users_cli import users_cli

catalog_cli = AppGroup("catalog", help="The plan catalogue.")
billing_cli = AppGroup("billing", help="Billing with Stripe.")


@catalog_cli.command("load")
def load_catalog() -> None:
    """Create or update the plans from app/data/catalog.json."""
    plans = catalog.load()
    click.echo(f"catalogue: {len(plans)} plans ({', '.join(p.code for p in plans)})")


@billing_cli.command("sync-catalog")
def sync_catalog() -> None:
    """Create or update a Stripe product and monthly price for every plan (idempotent)."""
    for plan in stripe_catalog.sync():
        click.echo(f"{plan.code}: product {plan.stripe_product_id}, price {plan.stripe_price_id}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(catalog_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(config_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(instances_cli)
    app.cli.add_command(jobs_cli)
