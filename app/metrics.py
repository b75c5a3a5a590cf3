"""The platform's Prometheus metrics, written by web and worker processes alike.

Under gunicorn and Celery many processes write these; with ``PROMETHEUS_MULTIPROC_DIR`` set
(before anything imports prometheus_client) each process keeps its values in files there,
and ``GET /metrics`` adds them up (`app.services.metrics_export`). Gauges that describe
rows or queues are not kept here: they are read at scrape time.

Every metric but the in-flight gauge has labels, so a process that never uses one (beat, a
CLI command) leaves no file behind. Label values come from small fixed sets (route
templates, job kinds, providers, event types), never from ids or raw paths.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

http_requests = Counter(
    "nemordp_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "nemordp_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
)
http_requests_in_progress = Gauge(
    "nemordp_http_requests_in_progress",
    "Requests being answered right now, over every live web process.",
    multiprocess_mode="livesum",
)

jobs_finished = Counter(
    "nemordp_jobs_finished",
    "Jobs that reached an end, by kind and outcome (succeeded or failed).",
    ["kind", "outcome"],
)
job_duration = Histogram(
    "nemordp_job_duration_seconds",
    "Time from a job's creation to its end, by kind and outcome.",
    ["kind", "outcome"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, float("inf")),
)
provisioning_failures = Counter(
    "nemordp_provisioning_failures",
    "Machine orders that failed for good, by the provider last tried.",
    ["provider"],
)

webhook_events = Counter(
    "nemordp_webhook_events",
    "Stripe webhook events, by event type and outcome: processed, ignored (no handler), "
    "duplicate, or invalid_signature (type unverified).",
    ["type", "outcome"],
)

alerts = Counter(
    "nemordp_alerts",
    "Alert e-mails, by alert and outcome (delivered, suppressed as a repeat, failed).",
    ["alert", "outcome"],
)


def record_request(method: str, route: str, status: int, seconds: float | None) -> None:
    http_requests.labels(method, route, str(status)).inc()
    if seconds is not None:
        http_request_duration.labels(method, route).observe(seconds)


def record_job_end(kind: str, outcome: str, seconds: float) -> None:
    jobs_finished.labels(kind, outcome).inc()
    job_duration.labels(kind, outcome).observe(max(seconds, 0.0))
