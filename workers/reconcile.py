"""Reconciling one provider: list every machine, let the service decide, destroy the
orphans whose grace period is over."""

from __future__ import annotations

import logging

from app.models.base import utcnow
from app.services import reconcile
from app.services.reconcile import Findings, Listed
from workers.outside_errors import OutsideError
from workers.providers.registry import client_for

logger = logging.getLogger(__name__)


def reconcile_provider(provider: str) -> Findings:
    """One pass. A failed listing raises (nothing is judged on half a listing); a failed
    destroy is logged and tried again at the next pass."""
    client = client_for(provider)
    listed_at = utcnow()
    listed = [Listed(m.provider_id, m.label) for m in client.list_machines()]
    findings = reconcile.assess(provider, listed, listed_at)
    for orphan in list(findings.due_orphans):
        try:
            client.destroy(orphan.provider_id)
        except OutsideError as exc:
            logger.error(
                "orphan %s at %s not destroyed: %s",
                orphan.provider_id,
                provider,
                exc.message,
                extra={"provider_id": orphan.provider_id},
            )
            findings.due_orphans.remove(orphan)
            continue
        reconcile.mark_destroyed(orphan)
    return findings
