"""Sealed ballot box, vote replays; participations keep no retry hashes and no time of day

Revision ID: 0008_secrecy
Revises: 0008_rules

While a ballot is open its contents are sealed in ``ballot_box`` (under a key the database does
not hold); the close moves them to ``cast_ballots`` (docs/secrecy.md). ``request_hash`` and
``sealed_receipt`` depended on both the card's secret and the contents: dropped, with
``idempotency_hash``; a retry is answered from ``vote_replays``. ``cast_at`` keeps the day.
Ballots open during the upgrade keep their cast ballots where they are; their close rewrites
them with the rest.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_secrecy"
down_revision = "0008_rules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ballot_box",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("receipt_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_ballot_box_ballot_id_ballots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_box")),
        sa.UniqueConstraint("receipt_tag", name=op.f("uq_ballot_box_receipt_tag")),
    )
    op.create_index(op.f("ix_ballot_box_ballot_id"), "ballot_box", ["ballot_id"], unique=False)
    op.create_table(
        "vote_replays",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_vote_replays_ballot_id_ballots")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_vote_replays")),
    )
    op.create_index(op.f("ix_vote_replays_ballot_id"), "vote_replays", ["ballot_id"], unique=False)
    op.create_index(
        op.f("ix_vote_replays_expires_at"), "vote_replays", ["expires_at"], unique=False
    )
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_column("sealed_receipt")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_hash")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE participations SET cast_at = date(cast_at) || ' 00:00:00.000000'")
    else:
        op.execute("UPDATE participations SET cast_at = date_trunc('day', cast_at)")


def downgrade():
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sealed_receipt", sa.String(length=128), nullable=True))
    op.drop_index(op.f("ix_vote_replays_expires_at"), table_name="vote_replays")
    op.drop_index(op.f("ix_vote_replays_ballot_id"), table_name="vote_replays")
    op.drop_table("vote_replays")
    op.drop_index(op.f("ix_ballot_box_ballot_id"), table_name="ballot_box")
    op.drop_table("ballot_box")
