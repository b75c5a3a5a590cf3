"""gunicorn settings for ``gunicorn -c gunicorn.conf.py wsgi:app`` in a checkout. They live
in `app.gunicorn_config`, so an installed platform carries them (``nemordp web``)."""

from app.gunicorn_config import (
    access_log_format,
    child_exit,
    on_starting,
    threads,
    worker_class,
    workers,
)

__all__ = ["access_log_format", "child_exit", "on_starting", "threads", "worker_class", "workers"]
