"""refunds of payments for machines never delivered, and unpaid orders that expire

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
