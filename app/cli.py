"""Operator commands: ``flask catalog load`` and friends."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.services import catalog

catalog_cli = AppGroup("catalog", help="The plan catalogue.")


@catalog_cli.command("load")
def load_catalog() -> None:
    """Create or update the plans from app/data/catalog.json."""
    plans = catalog.load()
    click.echo(f"catalogue: {len(plans)} plans ({', '.join(p.code for p in plans)})")


def register_cli(app: Flask) -> None:
    app.cli.add_command(catalog_cli)
