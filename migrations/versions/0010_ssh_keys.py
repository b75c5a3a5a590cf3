"""SSH keys on accounts, and the keys an order chose for its machine

``ssh_keys``: an account's public keys with their SHA-256 fingerprints (one key once per
account). ``instance_ssh_keys``: the keys a Linux order chose, installed when the machine is
made; a deleted key or machine drops its rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:15:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ssh_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ssh_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssh_keys")),
        sa.UniqueConstraint("user_id", "fingerprint", name=op.f("uq_ssh_keys_user_id")),
    )
    with op.batch_alter_table("ssh_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ssh_keys_user_id"), ["user_id"], unique=False)
    op.create_table(
        "instance_ssh_keys",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("ssh_key_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_instance_ssh_keys_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ssh_key_id"],
            ["ssh_keys.id"],
            name=op.f("fk_instance_ssh_keys_ssh_key_id_ssh_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "ssh_key_id", name=op.f("pk_instance_ssh_keys")),
    )


def downgrade():
    op.drop_table("instance_ssh_keys")
    with op.batch_alter_table("ssh_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ssh_keys_user_id"))
    op.drop_table("ssh_keys")
