"""a machine's jobs, newest first, by index

Listing a machine's recent jobs (ORDER BY id DESC LIMIT 20) walked the whole primary key
backwards once the planner misjudged how many jobs a machine has; this index serves it
directly.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 01:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_instance_id', ['instance_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_instance_id')
