"""``flask instances`` and ``flask jobs``: machines and their jobs without SQL. Command-line
actions are audited with no actor (``via: cli``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.errors import AppError
from app.models import InstanceStatus
from app.services import admin_jobs, admin_machines
from app.services.admin_machines import MachineFilter
from app.services.lifecycle import JobKind

instances_cli = AppGroup("instances", help="Every customer's machines.")
jobs_cli = AppGroup("jobs", help="Background jobs on machines.")


@instances_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in InstanceStatus]))
@click.option("--owner", type=click.IntRange(min=1), help="The owner's account id.")
@click.option("--failed", is_flag=True, help="Failed, or a job failed in the last 7 days.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
def list_instances(status: str | None, owner: int | None, failed: bool, limit: int) -> None:
    """Machines, newest first: id, status, owner, plan, region, provider and its id."""
    where = MachineFilter(status=status, owner=owner, failed=failed)
    for i in admin_machines.search(where, 1, limit).items:
        click.echo(
            f"{i.id}\t{i.status}\t{i.user.email}\t{i.plan.code}\t{i.region}\t"
            f"{i.provider or '-'}\t{i.provider_id or '-'}"
        )


@instances_cli.command("terminate")
@click.argument("instance_id", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Shown with the machine and audited.")
def terminate(instance_id: int, reason: str) -> None:
    """Destroy a machine (its subscription ends with it), through a job."""
    try:
        job = admin_machines.act(None, instance_id, JobKind.TERMINATE, reason)
    except AppError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"instance {instance_id}: terminate job {job.id} {job.state}")


@jobs_cli.command("retry")
@click.argument("job_id", type=click.IntRange(min=1))
@click.option("--reason", default="retried from the command line", show_default=True)
def retry(job_id: int, reason: str) -> None:
    """Send a stuck job again, or start a failed one again as a new job."""
    try:
        job = admin_jobs.retry(None, job_id, reason)
    except AppError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"job {job_id}: retried as job {job.id} ({job.kind}, {job.state})")
