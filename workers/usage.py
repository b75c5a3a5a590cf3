"""Asking providers for machines' traffic, a batch at a time.

A machine whose provider fails (timeout, 5xx, rate limit, gone) is skipped and asked again
at the next round; the rest of the batch still finishes. Each provider client's shared
throttle keeps all workers together under the provider's rate limit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Instance
from app.services import usage
from workers.outside_errors import OutsideError
from workers.providers.base import DailyTraffic
from workers.providers.registry import client_for

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    polled: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # failed or out of time: next round


def poll(instance_ids: list[int], budget_seconds: float) -> PollResult:
    """Fetch and record the traffic of these machines; stop asking after ``budget_seconds``
    (a provider that hangs must not push the task past its time limit)."""
    deadline = time.monotonic() + budget_seconds
    rows = db.session.execute(
        select(Instance.id, Instance.provider, Instance.provider_id)
        .where(Instance.id.in_(instance_ids), Instance.provider_id.is_not(None))
        .order_by(Instance.id)
    ).all()
    db.session.commit()  # hold no transaction open while waiting on providers
    result = PollResult()
    found: dict[int, list[DailyTraffic]] = {}
    for row in rows:
        if time.monotonic() > deadline:
            result.skipped.append(row.id)
            continue
        try:
            traffic = client_for(row.provider).bandwidth(row.provider_id)
        except OutsideError as exc:
            logger.warning(
                "traffic of instance %s not fetched: %s; next round",
                row.id,
                exc.message,
                extra={"instance_id": row.id},
            )
            result.skipped.append(row.id)
            continue
        if traffic is None:  # the provider has no traffic endpoint
            continue
        found[row.id] = traffic
        result.polled.append(row.id)
    usage.record(found)
    return result
