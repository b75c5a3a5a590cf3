"""The ``nemordp`` command an installed platform runs by (``[project.scripts]``).

``nemordp web``, ``worker``, ``beat`` and ``flower`` start the platform's processes: gunicorn
serving ``wsgi:app`` with `app.gunicorn_config`, and Celery's worker, beat and Flower with
``celery_app``; ``nemordp console-gateway`` runs the console's WebSocket server
(`app.console.gateway`). What follows the name goes to the server as it is (``nemordp web
--bind 127.0.0.1:8000 --workers 4``, ``nemordp worker -Q periodic``, ``nemordp web
--help``). Every other command is the Flask CLI of the platform's app: ``nemordp db
upgrade``, ``nemordp catalog load``, ``nemordp keys …``.

A server replaces this process (exec) rather than running under it, so the supervisor's
signals reach gunicorn or Celery directly, as if it had started them itself.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click
from flask.cli import FlaskGroup

from app import create_app

# `.env` is read by the settings themselves, in every process, not by the Flask CLI.
cli = FlaskGroup(
    name="nemordp",
    create_app=create_app,
    load_dotenv=False,
    help="NemoRDP: its web app, worker, beat and Flower, and its Flask commands.",
)

# Every option, --help included, belongs to the server.
PASS_THROUGH: dict[str, Any] = {
    "ignore_unknown_options": True,
    "allow_extra_args": True,
    "help_option_names": [],
}
SERVER_ARGS = click.argument("args", nargs=-1, type=click.UNPROCESSED)


def _exec_module(module: str, *args: str) -> NoReturn:
    """Become ``python -m module args`` of this same environment."""
    os.execv(sys.executable, [sys.executable, "-m", module, *args])


@cli.command(context_settings=PASS_THROUGH, with_appcontext=False)
@SERVER_ARGS
def web(args: tuple[str, ...]) -> NoReturn:
    """gunicorn serving the web app and the API (gunicorn's options)."""
    _exec_module("gunicorn", "--config", "python:app.gunicorn_config", *args, "wsgi:app")


@cli.command(context_settings=PASS_THROUGH, with_appcontext=False)
@SERVER_ARGS
def worker(args: tuple[str, ...]) -> NoReturn:
    """A Celery worker, every queue unless -Q names some (celery worker's options)."""
    _exec_module("celery", "--app", "celery_app", "worker", *args)


@cli.command(context_settings=PASS_THROUGH, with_appcontext=False)
@SERVER_ARGS
def beat(args: tuple[str, ...]) -> NoReturn:
    """Celery beat, the scheduler (celery beat's options)."""
    _exec_module("celery", "--app", "celery_app", "beat", *args)


@cli.command(context_settings=PASS_THROUGH, with_appcontext=False)
@SERVER_ARGS
def flower(args: tuple[str, ...]) -> NoReturn:
    """Flower, the queue monitor (Flower's options)."""
    # Flower serves its own /metrics from its process; in the platform's multiprocess
    # directory its values would be added to the platform's /metrics.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    _exec_module("celery", "--app", "celery_app", "flower", *args)


@cli.command("console-gateway")
@click.option("--bind", default=None, help="host:port (default: CONSOLE_BIND).")
def console_gateway(bind: str | None) -> None:
    """The console gateway: the desktop in the browser, over WebSockets."""
    import asyncio

    from flask import current_app

    from app.console.gateway import run

    host, _, port = (bind or current_app.config["CONSOLE_BIND"]).rpartition(":")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    asyncio.run(run(app, host, int(port)))


def main() -> None:
    cli.main(prog_name="nemordp")


if __name__ == "__main__":  # python -m app.entrypoint, as the stack launcher runs it
    main()
