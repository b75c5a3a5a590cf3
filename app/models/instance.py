from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, UTCDateTime
from app.models.plan import Plan
from app.models.user import User


class InstanceStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PROVISIONING = "provisioning"
    BOOTING = "booting"
    ACTIVE = "active"
    RESTARTING = "restarting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    STARTING = "starting"
    RESIZING = "resizing"
    REINSTALLING = "reinstalling"
    RESTORING = "restoring"  # its disk overwritten from a snapshot
    SUSPENDED = "suspended"
    TERMINATING = "terminating"
    TERMINATED = "terminated"
    FAILED = "failed"


class Instance(Timestamped, db.Model):  # type: ignore[name-defined]
    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_user_created", "user_id", "created_at"),
        Index("ix_instances_provider_ref", "provider", "provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), nullable=False)
    os_type: Mapped[str] = mapped_column(String(16), nullable=False)
    region: Mapped[str] = mapped_column(String(32), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(
        String(20), default=InstanceStatus.PENDING_PAYMENT, nullable=False, index=True
    )
    ip_address: Mapped[str | None] = mapped_column(String(45))
    ipv6_address: Mapped[str | None] = mapped_column(String(45))
    username: Mapped[str | None] = mapped_column(String(64))
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    last_accessed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data_transfer_gb: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The payment page of an unpaid order; the machine is built only once it is paid.
    checkout_session_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the machine first answered: an order that ends without it is refunded in full.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The in-guest agent: only the SHA-256 digest of its token is kept (the token itself
    # goes into the machine's first-boot script), and what it last reported.
    agent_token_digest: Mapped[str | None] = mapped_column(String(64))
    agent_version: Mapped[str | None] = mapped_column(String(32))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When usage polling last saw traffic grow: idle evidence where no agent reports.
    traffic_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    plan: Mapped[Plan] = relationship(lazy="joined", innerjoin=True)

    @property
    def label(self) -> str:
        """Deterministic name at the provider, so a retried create finds its machine; it
        names this install, so another install on the same account leaves it alone."""
        return machine_label(current_app.config["INSTALL_ID"], self.id)

    @property
    def name(self) -> str:
        """What the customer calls the machine (pages, e-mails, invoices)."""
        return f"nemordp-{self.id}"


LABEL_PREFIX = "nemordp-"


def machine_label(install_id: str, instance_id: int) -> str:
    """``nemordp-<install id>-<instance id>``: the label of an instance's machine."""
    return f"{LABEL_PREFIX}{install_id}-{instance_id}"


def labelled_instance_id(label: str, install_id: str) -> int | None:
    """The instance id in a label this install gave, or None for any other label (another
    install's, or one from before labels named the install: ``nemordp-<instance id>``)."""
    suffix = label.removeprefix(f"{LABEL_PREFIX}{install_id}-")
    if suffix == label or not (suffix.isascii() and suffix.isdigit()):
        return None
    instance_id = int(suffix)
    return instance_id if machine_label(install_id, instance_id) == label else None
