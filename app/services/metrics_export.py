"""What ``GET /metrics`` answers, and who may ask.

The counters and histograms of `app.metrics` are added up over every process that wrote
them (multiprocess mode), and gauges that describe the platform's state are read at scrape
time: active machines by provider and plan from the database, tasks waiting per queue from
the broker. If one of those sources is down the scrape still answers, without its series,
and ``nemordp_scrape_source_up`` says which source failed.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Iterator

import redis
from flask import current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.errors import Forbidden, Unauthorized
from app.extensions import db
from app.models import Instance, InstanceStatus, Plan
from app.security import networks as network_lists
from app.services import queues

logger = logging.getLogger(__name__)


def _active_machines() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "nemordp_active_machines",
        "Machines in the active state, by provider and plan.",
        labels=["provider", "plan"],
    )
    # Every provider and plan the catalogue offers appears, at zero when none runs there.
    counts = {
        (provider, plan.code): 0
        for plan in db.session.scalars(select(Plan))
        for provider in plan.offers
    }
    rows = db.session.execute(
        select(Instance.provider, Plan.code, func.count())
        .join(Plan, Plan.id == Instance.plan_id)
        .where(Instance.status == InstanceStatus.ACTIVE)
        .group_by(Instance.provider, Plan.code)
    )
    for provider, plan_code, count in rows:
        counts[(provider or "none", plan_code)] = count
    db.session.rollback()  # end the read transaction: the scrape holds no locks
    for (provider, plan_code), count in sorted(counts.items()):
        family.add_metric([provider, plan_code], count)
    yield family


def _queue_lengths() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "nemordp_celery_queue_length",
        "Tasks waiting in each Celery queue (not yet taken by a worker).",
        labels=["queue"],
    )
    for queue, length in queues.depths().items():
        family.add_metric([queue], length)
    yield family


# Each source, with the errors that mean "this source is down".
SOURCES: dict[str, tuple[Callable[[], Iterator[Metric]], type[Exception]]] = {
    "database": (_active_machines, SQLAlchemyError),
    "broker": (_queue_lengths, redis.RedisError),
}


class ScrapeTimeCollector:
    """Reads each source when Prometheus scrapes; a failing source is reported, not raised."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "nemordp_scrape_source_up",
            "1 if the source of scrape-time gauges answered during this scrape, else 0.",
            labels=["source"],
        )
        for name, (source, down) in SOURCES.items():
            try:
                families = list(source())
            except down:
                logger.warning("metrics source %s is down", name, exc_info=True)
                db.session.rollback()
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


class _ThisProcess:
    """The default registry, for a single process without a multiprocess directory."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    registry = CollectorRegistry()
    directory = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(ScrapeTimeCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def authorise(authorization: str | None, remote_addr: str | None) -> None:
    """Let a scrape through, or raise 401/403.

    Each configured rule must pass: ``METRICS_TOKEN`` wants ``Authorization: Bearer <token>``,
    ``METRICS_ALLOWED_NETWORKS`` wants the client address in one of its networks. With no
    rule, the endpoint is open where ``METRICS_OPEN_WITHOUT_RULES`` (development and test)
    and closed in production.
    """
    config = current_app.config
    token = config["METRICS_TOKEN"]
    networks = network_lists.parse(config["METRICS_ALLOWED_NETWORKS"])
    if not token and not networks:
        if config["METRICS_OPEN_WITHOUT_RULES"]:
            return
        raise Forbidden("Metrics are closed: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS.")
    if networks and not network_lists.contains(networks, remote_addr):
        raise Forbidden("Metrics are not served to this address.")
    if token:
        scheme, _, offered = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            offered.strip().encode(), token.encode()
        ):
            raise Unauthorized("Send the metrics token as a bearer token.")


def check_settings(config: dict[str, object]) -> None:
    """Refuse to start with an allow-list that does not parse (ValueError naming it)."""
    try:
        network_lists.parse(str(config["METRICS_ALLOWED_NETWORKS"]))
    except ValueError as exc:
        raise ValueError(f"METRICS_ALLOWED_NETWORKS: {exc}") from None
