"""machines reconciliation kept instead of destroying, for an operator to decide on

``reconcile_findings``: one row per machine a guard kept (its label's instance id above the
database's highest, destroying off, or the pass's destroy cap reached), open until an
operator decides or the machine is claimed, gone or destroyed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reconcile_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("guard", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_reconcile_findings_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconcile_findings")),
        sa.UniqueConstraint("provider", "provider_id", name=op.f("uq_reconcile_findings_provider")),
    )
    with op.batch_alter_table("reconcile_findings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reconcile_findings_open", ["resolved_at", "first_seen_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("reconcile_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_reconcile_findings_open")
    op.drop_table("reconcile_findings")
