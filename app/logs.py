"""Logging: JSON lines carrying the request id and user id, or plain text locally."""

from __future__ import annotations

import logging

from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(record, "request_id", None) or g.get("request_id")
            if not hasattr(record, "user_id"):
                # Only a user flask-login already loaded: logging must never query.
                record.user_id = getattr(g.get("_login_user"), "id", None)
        return True


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if getattr(root, "_nemordp_configured", False):
        return
    handler = logging.StreamHandler()
    if app.config["LOG_JSON"]:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    root._nemordp_configured = True  # type: ignore[attr-defined]
