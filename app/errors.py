"""The one error contract: every error is ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

# Codes for the statuses werkzeug raises for us (malformed requests, wrong method, ...).
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class AppError(Exception):
    """A domain error the API reports to its caller as it is."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, message: str | None = None, fields: dict[str, Any] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
    message = "Some fields are invalid."


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "Authentication required."


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "You may not do that."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "That conflicts with the current state."


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as application/json."


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    message = "A service we depend on is unavailable; try again shortly."
    retry_after = 10


def error_body(status: int, code: str, message: str, fields: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if status >= 500:
        error["request_id"] = g.get("request_id")
    return {"error": error}


def http_error_response(error: HTTPException) -> ResponseReturnValue:
    """Render a werkzeug/webargs HTTP error in our contract."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    fields: dict[str, Any] | None = None
    message = data.get("message") or error.description or ""
    if isinstance(messages, dict):
        # webargs nests messages by location ({"json": {...}}); callers only need the fields.
        fields = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                fields.update(location_messages)
            else:
                fields["_body"] = location_messages
        if status == 400 and "json" in messages and not isinstance(messages["json"], dict):
            message = "The body is not valid JSON."
            fields = None
        elif status == 422:
            message = "Some fields are invalid."
    body = error_body(status, HTTP_CODES.get(status, "error"), message, fields)
    headers = dict(data.get("headers") or {})
    if error.response is not None:
        headers.update({k: v for k, v in error.response.headers.items() if k == "Retry-After"})
    return jsonify(body), status, headers


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> ResponseReturnValue:
        body = jsonify(error_body(error.status, error.code, error.message, error.fields))
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        return body, error.status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):
            return http_error_response(error)
        if app.testing and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        logger.exception("unhandled error", extra={"request_id": g.get("request_id")})
        message = "Something went wrong on our side; quote the request id to support."
        return jsonify(error_body(500, "internal_error", message)), 500
