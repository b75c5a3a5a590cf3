from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime


class Plan(db.Model):  # type: ignore[name-defined]
    """A product in the catalogue and where each provider can run it.

    ``offers`` maps a provider name to its plan id and to our region codes, each with the
    provider's own region id: ``{"vultr": {"plan": "vc2-2c-4gb", "regions": {"us-east": "ewr"}}}``.
    """

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    price_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="usd", nullable=False)
    vcpu: Mapped[int] = mapped_column(Integer, nullable=False)
    ram_mb: Mapped[int] = mapped_column(Integer, nullable=False)
    disk_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    bandwidth_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    gpu: Mapped[str | None] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    offers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # How many snapshots a machine of the plan may keep, included in the plan's price.
    snapshot_quota: Mapped[int] = mapped_column(
        Integer, default=2, server_default="2", nullable=False
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Operators' choices, which loading the catalogue file leaves alone: whether the plan
    # takes new orders, the regions where it takes none, and when they last set its price.
    orderable: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
    closed_regions: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]", nullable=False
    )
    price_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stripe_product_id: Mapped[str | None] = mapped_column(String(64))
    stripe_price_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def regions(self) -> list[str]:
        codes = {region for offer in self.offers.values() for region in offer["regions"]}
        return sorted(codes)

    @property
    def open_regions(self) -> list[str]:
        """The regions that take new orders of this plan."""
        return [region for region in self.regions if region not in self.closed_regions]

    @property
    def default_region(self) -> str:
        """Where an order that names no region runs: the first region the catalogue lists
        for the plan's preferred (first) provider."""
        first_offer = next(iter(self.offers.values()))
        return str(next(iter(first_offer["regions"])))

    def providers_for(self, region: str) -> list[str]:
        """Providers offering this plan in a region, in catalogue order of preference."""
        return [name for name, offer in self.offers.items() if region in offer["regions"]]
