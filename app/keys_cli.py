"""``flask keys generate`` and ``flask keys rotate``: the encryption keys of secrets at rest."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.security import crypto
from app.services import key_rotation

keys_cli = AppGroup("keys", help="Encryption keys of the secrets stored at rest.")


@keys_cli.command("generate")
def generate() -> None:
    """Print a new Fernet key (alone on stdout, to capture in a script)."""
    click.echo(crypto.generate_key())
    click.echo(
        "Put it first in ENCRYPTION_KEYS (comma-separated, newest first), deploy, "
        "then run `flask keys rotate`.",
        err=True,
    )


@keys_cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
def rotate(batch_size: int) -> None:
    """Re-encrypt every *_encrypted column under the newest key (safe to run again)."""
    unreadable = False
    for column in key_rotation.rotate_all(batch_size):
        click.echo(
            f"{column.table}.{column.column}: {column.rotated} rotated, "
            f"{column.already_current} already current"
        )
        if column.unreadable:
            unreadable = True
            ids = ", ".join(str(i) for i in column.unreadable[:20])
            click.echo(f"  {len(column.unreadable)} no key opens (ids {ids})", err=True)
    if unreadable:
        raise click.ClickException(
            "some secrets could not be decrypted: keep every old key in ENCRYPTION_KEYS "
            "until `flask keys rotate` reports none"
        )
    click.echo("Every secret is under the newest key; older keys can now be removed.")
