"""``flask users``: accounts and roles without SQL (create the first admin, promote, demote,
suspend, unsuspend, list). Command-line actions are audited with no actor (``via: cli``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import NoReturn

import click
from flask.cli import AppGroup
from marshmallow import ValidationError, fields

from app.errors import AppError
from app.models import Job, Role, User
from app.schemas.auth import PASSWORD
from app.schemas.common import EMAIL
from app.services import admin_customers, suspension

users_cli = AppGroup("users", help="Accounts and their roles.")


def _fail(error: AppError) -> NoReturn:
    raise click.ClickException(error.message)


def _checked(field: fields.Field, value: str, what: str) -> str:
    try:
        field.deserialize(value)
    except ValidationError as error:
        raise click.BadParameter(" ".join(map(str, error.messages)), param_hint=what) from None
    return value


@users_cli.command("create-admin")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def create_admin(email: str, password_stdin: bool) -> None:
    """Create an admin account (the first one, typically); the password is asked for."""
    _checked(EMAIL, email, "EMAIL")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _checked(PASSWORD, password, "password")
    try:
        user = admin_customers.create_admin(email, password)
    except AppError as error:
        _fail(error)
    click.echo(f"admin {user.id} created: {user.email}")


def _set_role(email: str, role: Role, reason: str) -> None:
    try:
        user = admin_customers.set_role(None, admin_customers.by_email(email), role, reason)
    except AppError as error:
        _fail(error)
    click.echo(f"{user.email} is now {user.role}")


@users_cli.command("promote")
@click.argument("email")
@click.option("--role", type=click.Choice([Role.STAFF.value, Role.ADMIN.value]), required=True)
@click.option("--reason", default="promoted from the command line", show_default=True)
def promote(email: str, role: str, reason: str) -> None:
    """Make an account staff or admin."""
    _set_role(email, Role(role), reason)


@users_cli.command("demote")
@click.argument("email")
@click.option("--reason", default="demoted from the command line", show_default=True)
def demote(email: str, reason: str) -> None:
    """Make a staff or admin account a customer again."""
    _set_role(email, Role.CUSTOMER, reason)


def _change_suspension(
    email: str, change: Callable[[None, User, str], list[Job]], reason: str, said: str
) -> None:
    try:
        jobs = change(None, admin_customers.by_email(email), reason)
    except AppError as error:
        _fail(error)
    click.echo(f"{email} {said}: {_ids(job.instance_id for job in jobs)}")


@users_cli.command("suspend")
@click.argument("email")
@click.option("--reason", required=True, help="Told to the customer and kept in the audit trail.")
def suspend(email: str, reason: str) -> None:
    """Suspend an account: sign-in and orders refused, machines stopped, customer e-mailed."""
    _change_suspension(email, suspension.suspend, reason, "suspended; machines stopping")


@users_cli.command("unsuspend")
@click.argument("email")
@click.option("--reason", default="suspension lifted from the command line", show_default=True)
def unsuspend(email: str, reason: str) -> None:
    """Lift a suspension; the machines it stopped start again."""
    _change_suspension(email, suspension.unsuspend, reason, "unsuspended; machines starting")


@users_cli.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]))
@click.option("--search", "text", help="Part of the e-mail or name, or the id.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
def list_users(role: str | None, text: str | None, limit: int) -> None:
    """Accounts, newest first: id, e-mail, role, and the suspension if any."""
    for user in admin_customers.search(text, role, 1, limit).items:
        suspended = f"  suspended: {user.suspension_reason}" if user.suspended_at else ""
        click.echo(f"{user.id}\t{user.email}\t{user.role}{suspended}")


def _ids(ids: Iterable[int | None]) -> str:
    return ", ".join(str(i) for i in ids) or "none"
