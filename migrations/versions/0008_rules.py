"""The rules residents are shown decide: one pass threshold, quorum outcomes, the board's ballot

Revision ID: 0008_rules
Revises: 0010_staff_actions

The round's second, unrelated "approval threshold" is merged into the ballot's pass threshold
(the one residents read on the ballot): a ballot not yet opened takes the stricter of the two;
an opened ballot keeps the threshold its voters were shown. The rule "greedy-threshold" becomes
"greedy", since every rule now applies the pass threshold.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_rules"
down_revision = "0010_staff_actions"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    rounds = bind.execute(
        sa.text(
            "SELECT id, approval_threshold_percent FROM funding_rounds "
            "WHERE approval_threshold_percent IS NOT NULL"
        )
    ).all()
    for round_id, percent in rounds:
        # "at least X%" becomes "more than X-1%" of the ballots cast.
        bind.execute(
            sa.text(
                "UPDATE ballots SET pass_threshold_percent = :p WHERE round_id = :r "
                "AND opened_at IS NULL AND pass_threshold_percent < :p"
            ),
            {"p": max(percent - 1, 0), "r": round_id},
        )
    bind.execute(
        sa.text(
            "UPDATE funding_rounds SET allocation_rule = 'greedy' "
            "WHERE allocation_rule = 'greedy-threshold'"
        )
    )
    # Plain ALTER TABLE, not a batch copy: SQLite (3.35+) drops and adds a column in place,
    # where copying funding_rounds would break the ballots' and needs' foreign keys to it.
    op.drop_column("funding_rounds", "approval_threshold_percent")
    op.add_column("ballots", sa.Column("quorum_outcome", sa.JSON(), nullable=True))
    op.add_column("ballots", sa.Column("quorum_decisions", sa.JSON(), nullable=True))
    op.add_column("communities", sa.Column("board_ballot_id", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("communities", "board_ballot_id")
    op.drop_column("ballots", "quorum_decisions")
    op.drop_column("ballots", "quorum_outcome")
    op.add_column(
        "funding_rounds", sa.Column("approval_threshold_percent", sa.Integer(), nullable=True)
    )
