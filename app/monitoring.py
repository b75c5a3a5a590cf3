"""Operations wiring: request metrics, the ``GET /metrics`` endpoint and error tracking."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request

from app import metrics
from app.error_tracking import init_error_tracking
from app.services import metrics_export

bp = Blueprint("metrics", __name__)

# The route label of requests that matched no route (404s, 405s): never the raw path.
UNMATCHED = "<unmatched>"


@bp.get("/metrics")
def get_metrics() -> Response:
    """Prometheus exposition of every process's metrics; token or network checked."""
    metrics_export.authorise(request.headers.get("Authorization"), request.remote_addr)
    body, content_type = metrics_export.render()
    return Response(body, content_type=content_type)


def _start() -> None:
    g.metrics_started = time.perf_counter()
    metrics.http_requests_in_progress.inc()


def _record(response: Response) -> Response:
    started = g.get("metrics_started")
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    seconds = time.perf_counter() - started if started is not None else None
    metrics.record_request(request.method, route, response.status_code, seconds)
    return response


def _finish(_: BaseException | None) -> None:
    # Teardown runs even when a response was never made, so the gauge cannot drift up.
    if g.pop("metrics_started", None) is not None:
        metrics.http_requests_in_progress.dec()


def init_monitoring(app: Flask) -> None:
    """Call early in the factory, so the clock starts before the other request hooks."""
    metrics_export.check_settings(app.config)
    app.before_request(_start)
    app.after_request(_record)
    app.teardown_request(_finish)
    app.register_blueprint(bp)
    init_error_tracking(app)
