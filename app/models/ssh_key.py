"""SSH public keys kept on an account, and the keys an order chose for its machine."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamped


class SshKey(Timestamped, db.Model):  # type: ignore[name-defined]
    """A public key (never a private one); ``fingerprint`` is OpenSSH's ``SHA256:…`` form,
    the only part of it that logs and audit events show."""

    __tablename__ = "ssh_keys"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)


# The keys an order chose, installed when its machine is made (and again on a reinstall).
instance_ssh_keys = Table(
    "instance_ssh_keys",
    db.metadata,
    Column("instance_id", ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True),
    Column("ssh_key_id", ForeignKey("ssh_keys.id", ondelete="CASCADE"), primary_key=True),
)
