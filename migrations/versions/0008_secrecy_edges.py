"""Keyed credential hashes, live results published in batches

Revision ID: 0008_secrecy_edges
Revises: 0007_audit_trail

Credentials: ``hash_scheme`` says how a card's hashes were made. Cards already issued keep their
unsalted SHA-256 (a hash cannot be re-keyed without the code) and are marked ``sha256``; cards
issued from now on are ``hmac-sha256`` (registry.credentials.hash_secret).

Ballots: ``live_batch_size`` (k): results shown while voting change only in steps of at least k
ballots; ``live_snapshots`` holds the published and the pending batch of each open ballot
(ballots.live), deleted when the ballot closes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_secrecy_edges"
down_revision = "0007_audit_trail"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "hash_scheme", sa.String(length=16), server_default="hmac-sha256", nullable=False
            )
        )
    op.execute("UPDATE credentials SET hash_scheme = 'sha256'")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("live_batch_size", sa.Integer(), server_default="10", nullable=False)
        )
    op.create_table(
        "live_snapshots",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_live_snapshots_ballot_id_ballots")
        ),
        sa.PrimaryKeyConstraint("ballot_id", name=op.f("pk_live_snapshots")),
    )


def downgrade():
    op.drop_table("live_snapshots")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_column("live_batch_size")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("hash_scheme")
