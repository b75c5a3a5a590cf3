"""The JSON API under /api: the smorest Api, its error contract and request checks."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

from app.api.input_guard import check_api_input
from app.errors import UnsupportedMediaType, http_error_response
from app.schemas.common import ErrorSchema

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Api(SmorestApi):
    """flask-smorest with our error contract instead of its own payload."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_error_response(error)


def _require_json_body() -> None:
    """A body sent to the API must be JSON (webhooks included: Stripe posts JSON)."""
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType()


def register_api(app: Flask) -> Api:
    from app.api import (
        account,
        admin,
        agent,
        auth,
        billing,
        console,
        health,
        instances,
        jobs,
        plans,
        snapshots,
        support,
    )

    api = Api(app)
    app.before_request(_require_json_body)
    app.before_request(check_api_input)
    for module in (account, agent, auth, billing, health, instances, jobs, plans, support):
        api.register_blueprint(module.blp)
    api.register_blueprint(snapshots.blp)
    api.register_blueprint(console.blp)
    for blueprint in admin.BLUEPRINTS:
        api.register_blueprint(blueprint)
    return api
