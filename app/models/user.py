from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamped, UTCDateTime


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


class OsType(StrEnum):
    WINDOWS = "windows"
    LINUX = "linux"


class User(UserMixin, Timestamped, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", func.lower("email"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    full_name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), default=Role.CUSTOMER, nullable=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), index=True)

    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    auto_shutdown: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    idle_minutes: Mapped[int] = mapped_column(Integer, default=120, nullable=False)
    default_os: Mapped[str] = mapped_column(String(16), default=OsType.WINDOWS, nullable=False)

    # Two-factor sign-in: the TOTP secret is encrypted at rest and in force once confirmed.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time step accepted, so a code seen over someone's shoulder cannot be replayed.
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    # Deletion: sign-in refused at once, personal data erased once the machines are gone.
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Suspension by an operator: sign-in (cookies and tokens too) and orders refused, the
    # machines stopped until it is lifted (`app.services.suspension`).
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(String(500))

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.is_active_account and self.suspended_at is None

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def preferences(self) -> dict[str, object]:
        return {
            "email_notifications": self.email_notifications,
            "auto_shutdown": self.auto_shutdown,
            "idle_minutes": self.idle_minutes,
            "default_os": self.default_os,
        }
