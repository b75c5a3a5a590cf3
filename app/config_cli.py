"""``flask config show`` and ``flask config example``: the settings in effect, and the
``.env.example`` the settings class writes."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

import settings
from config import ENV_FILE

config_cli = AppGroup("config", help="The platform's settings.")


@config_cli.command("show")
def show() -> None:
    """Print every setting in effect, secrets and passwords masked."""
    click.echo(f"# NEMORDP_ENV={current_app.config['ENV_NAME']}, env file: {ENV_FILE or 'none'}")
    for name, value in settings.in_effect(current_app.config):
        click.echo(f"{name}={value}")


@config_cli.command("example")
def example() -> None:
    """Print .env.example: every setting with its meaning, type and default."""
    click.echo(settings.example(), nl=False)
