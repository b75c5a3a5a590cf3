"""Error tracking with Sentry, only when ``SENTRY_DSN`` is set.

Unhandled errors of requests and tasks, and every log line at ERROR or above, become
events. No personal data is sent (``send_default_pii`` off, Sentry's own scrubbing of
password, token and cookie fields on), and each event passes through the same `Redactor`
as the logs before it leaves. Events carry the request id and job id as tags, so an event
and the log lines around it are found together.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sentry_sdk
from flask import Flask, g, has_request_context
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from app.logs import Redactor, current_task_fields


def init_error_tracking(app: Flask) -> None:
    dsn = app.config["SENTRY_DSN"]
    if not dsn or sentry_sdk.is_initialized():
        return
    redactor = Redactor(app.config)

    def before_send(event: dict[str, Any], _: dict[str, Any]) -> dict[str, Any]:
        tags = event.setdefault("tags", {})
        if has_request_context() and g.get("request_id"):
            tags["request_id"] = g.request_id
        job_id = current_task_fields().get("job_id")
        if job_id is not None:
            tags["job_id"] = str(job_id)
        cleaned: dict[str, Any] = json.loads(redactor.redact(json.dumps(event, default=str)))
        return cleaned

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["ENV_NAME"],
        traces_sample_rate=app.config["SENTRY_TRACES_SAMPLE_RATE"],
        send_default_pii=False,
        before_send=before_send,  # type: ignore[arg-type]
        integrations=[
            FlaskIntegration(),
            CeleryIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
    )
