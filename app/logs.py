"""Logging: JSON lines carrying the request, user, task and job ids, or plain text locally.

Web requests add ``request_id`` and ``user_id``; Celery tasks add ``task_id``, ``task`` and,
when the task works on a job (its first argument is ``job_id``), ``job_id``. Workers keep
this configuration instead of Celery's own. Every line passes through a `Redactor`, so the
values of secret settings and anything shaped like a Stripe key or a bearer token never
reach the output; JSON lines also blank extra fields named like a secret (``*_password``,
``*_token``, ...).
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from celery import Task, signals
from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter

from settings import Settings, is_secret

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The ids plain-text lines show (JSON lines carry every extra field).
CONTEXT_FIELDS = ("request_id", "user_id", "task_id", "job_id")

# The task (and job) a worker process is running now; empty outside tasks.
_task_fields: ContextVar[dict[str, Any] | None] = ContextVar("nemordp_task_fields", default=None)

# Settings whose values are secrets (those settings.py marks so, a provider's keys among
# them), and settings that are URLs which may carry a password.
SECRET_SETTINGS = tuple(name for name in Settings.model_fields if is_secret(name))
LIST_SECRET_SETTINGS = ("ENCRYPTION_KEYS",)
URL_SETTINGS = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "CELERY_BROKER_URL", "SENTRY_DSN")
SECRET_PATTERNS = re.compile(
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{6,}"
    r"|\bwhsec_[A-Za-z0-9+/=]{6,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
)
REDACTED = "[redacted]"
# Extra fields whose names say they hold a secret are blanked whatever their value.
SECRET_FIELD_SUFFIXES = ("password", "secret", "token", "authorization", "api_key")
SHORTEST_SECRET = 6  # shorter values would blank out ordinary words


class Redactor:
    """Removes secret values (read from the config) and secret-shaped tokens from text."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        values = [str(config.get(name) or "") for name in SECRET_SETTINGS]
        for name in LIST_SECRET_SETTINGS:
            values += str(config.get(name) or "").split(",")
        for name in URL_SETTINGS:
            values.append(urlsplit(str(config.get(name) or "")).password or "")
        kept = {value.strip() for value in values if len(value.strip()) >= SHORTEST_SECRET}
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted(kept, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return SECRET_PATTERNS.sub(REDACTED, text)


class ContextFilter(logging.Filter):
    """Adds the ids of the current request or task to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(record, "request_id", None) or g.get("request_id")
            if not hasattr(record, "user_id"):
                # Only a user flask-login already loaded: logging must never query.
                record.user_id = getattr(g.get("_login_user"), "id", None)
        for name, value in (_task_fields.get() or {}).items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__(
            FORMAT, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
        )
        self.redactor = redactor

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            name: REDACTED if name.lower().endswith(SECRET_FIELD_SUFFIXES) else value
            for name, value in log_data.items()
        }

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(super().format(record))


class RedactingFormatter(logging.Formatter):
    """Plain text for a terminal, the ids the record carries after the message."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(FORMAT)
        self.redactor = redactor

    def formatMessage(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) is not None
        )
        text = super().formatMessage(record)
        return f"{text} [{ids}]" if ids else text

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(super().format(record))


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if getattr(root, "_nemordp_configured", False):
        return
    redactor = Redactor(app.config)
    handler = logging.StreamHandler()
    if app.config["LOG_JSON"]:
        handler.setFormatter(RedactingJsonFormatter(redactor))
    else:
        handler.setFormatter(RedactingFormatter(redactor))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    root._nemordp_configured = True  # type: ignore[attr-defined]
    signals.setup_logging.connect(_keep_our_logging, weak=False)
    signals.task_prerun.connect(_bind_task, weak=False)
    signals.task_postrun.connect(_unbind_task, weak=False)


def _keep_our_logging(**_: Any) -> None:
    """A receiver here stops a Celery worker from replacing the handlers set up above."""


def task_log_fields(task: Task, task_id: str, args: Iterable[Any]) -> dict[str, Any]:
    """The log fields of a task run: its id and name, and the job id it works on."""
    fields: dict[str, Any] = {"task_id": task_id, "task": task.name}
    parameters = list(inspect.signature(task.run).parameters)
    if parameters[:1] == ["job_id"]:
        first = next(iter(args), None)
        if first is not None:
            fields["job_id"] = first
    return fields


def current_task_fields() -> dict[str, Any]:
    """The log fields of the task this process is running (empty outside a task)."""
    return dict(_task_fields.get() or {})


def _bind_task(task_id: str, task: Task, args: Iterable[Any] | None = None, **_: Any) -> None:
    _task_fields.set(task_log_fields(task, task_id, args or ()))


def _unbind_task(**_: Any) -> None:
    _task_fields.set(None)
