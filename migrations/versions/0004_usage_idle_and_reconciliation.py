"""usage series, idle detection and reconciliation

Daily traffic per machine (upserted by usage polling), the in-guest agent's token digest
and heartbeat, when traffic last grew (idle evidence without an agent), and the machines
found at a provider that no instance accounts for.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:43:19.504319

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('orphan_machines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orphan_machines')),
    sa.UniqueConstraint('provider', 'provider_id', name=op.f('uq_orphan_machines_provider'))
    )
    op.create_table('instance_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('inbound_bytes', sa.BigInteger(), nullable=False),
    sa.Column('outbound_bytes', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_instance_usage_instance_id_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_usage')),
    sa.UniqueConstraint('instance_id', 'day', name=op.f('uq_instance_usage_instance_id'))
    )
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_token_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('agent_version', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('traffic_seen_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_column('traffic_seen_at')
        batch_op.drop_column('last_heartbeat_at')
        batch_op.drop_column('agent_version')
        batch_op.drop_column('agent_token_digest')

    op.drop_table('instance_usage')
    op.drop_table('orphan_machines')
