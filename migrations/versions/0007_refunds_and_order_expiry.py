"""refunds of payments for machines never delivered, and unpaid orders that expire

``instances.delivered_at``: when the machine first became active; an order without it that
ends is refunded in full. ``invoices.amount_refunded`` and ``stripe_payment_intent_id``:
what was given back of an invoice's payment, and the payment it is refunded through.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Statuses only a machine that once answered can have.
DELIVERED = (
    "active",
    "restarting",
    "stopping",
    "stopped",
    "starting",
    "resizing",
    "suspended",
)


def upgrade():
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    # Machines running today were delivered; for ended ones the audit trail tells.
    op.execute(
        "UPDATE instances SET delivered_at = created_at WHERE status IN "
        f"({', '.join(repr(status) for status in DELIVERED)})"
    )
    op.execute(
        "UPDATE instances SET delivered_at = created_at WHERE delivered_at IS NULL "
        "AND status IN ('terminating', 'terminated') AND EXISTS (SELECT 1 FROM jobs "
        "WHERE jobs.instance_id = instances.id AND jobs.kind = 'provision' "
        "AND jobs.state = 'succeeded')"
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("amount_refunded", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("stripe_payment_intent_id", sa.String(length=64), nullable=True)
        )
        batch_op.create_index(
            "ix_invoices_stripe_payment_intent_id", ["stripe_payment_intent_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_stripe_payment_intent_id")
        batch_op.drop_column("stripe_payment_intent_id")
        batch_op.drop_column("amount_refunded")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
