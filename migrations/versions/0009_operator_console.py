"""the operator console: suspended accounts, and plans and regions closed to new orders

``users.suspended_at`` and ``suspension_reason``: a suspended account cannot sign in or
order, and its machines are stopped until it is unsuspended. ``plans.orderable`` (false:
the plan takes no new orders, existing machines keep it), ``plans.closed_regions`` (region
codes that take no new orders of the plan) and ``plans.price_changed_at`` (an operator set
the price; loading the catalogue file no longer changes it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("suspension_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("orderable", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("closed_regions", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("price_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("price_changed_at")
        batch_op.drop_column("closed_regions")
        batch_op.drop_column("orderable")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_at")
