"""How long each request took: X-Process-Time and Server-Timing headers, slow-request log.

``X-Process-Time`` is the time in the app, in seconds. ``Server-Timing`` splits it for the
browser's developer tools: ``db`` (time in SQL, with the number of queries) and ``app``
(the whole). Requests slower than ``SLOW_REQUEST_MS`` are logged as warnings with their
request id, method, path, status and figures.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def _start_clock() -> None:
    g.started_at = time.perf_counter()
    g.db_seconds = 0.0
    g.db_queries = 0


def _before_query(conn: Any, *_: Any) -> None:
    if has_request_context():
        conn.info["query_started"] = time.perf_counter()


def _after_query(conn: Any, *_: Any) -> None:
    started = conn.info.pop("query_started", None)
    if started is not None and has_request_context():
        g.db_seconds = g.get("db_seconds", 0.0) + time.perf_counter() - started
        g.db_queries = g.get("db_queries", 0) + 1


def _add_timing(response: Response) -> Response:
    started = g.get("started_at")
    if started is None:  # a request that failed before our first hook
        return response
    elapsed_ms = (time.perf_counter() - started) * 1000
    db_ms, queries = g.db_seconds * 1000, g.db_queries
    response.headers["X-Process-Time"] = f"{elapsed_ms / 1000:.6f}"
    counted = f"{queries} {'query' if queries == 1 else 'queries'}"
    response.headers["Server-Timing"] = (
        f'db;dur={db_ms:.1f};desc="{counted}", app;dur={elapsed_ms:.1f}'
    )
    if elapsed_ms > current_app.config["SLOW_REQUEST_MS"]:
        logger.warning(
            "slow request: %s %s took %.0f ms (%d queries, %.0f ms in SQL)",
            request.method,
            request.path,
            elapsed_ms,
            queries,
            db_ms,
            extra={
                "request_id": g.get("request_id"),
                "duration_ms": round(elapsed_ms, 1),
                "status": response.status_code,
            },
        )
    return response


def init_timing(app: Flask) -> None:
    """Register first, so the clock starts before and stops after every other hook."""
    if not event.contains(Engine, "before_cursor_execute", _before_query):
        event.listen(Engine, "before_cursor_execute", _before_query)
        event.listen(Engine, "after_cursor_execute", _after_query)
    app.before_request(_start_clock)
    app.after_request(_add_timing)
