"""Cast ballots may carry a coarsened building (neighbourhood); rounds set the group minimum

Revision ID: 0011_neighbourhood
Revises: 0008_secrecy

``cast_ballots.neighbourhood``: the voter's building, written by the close only where every
group holds at least ``funding_rounds.building_min_ballots`` ballots (default 20); smaller
buildings merge into one group, and no group at all is stored if that is still too small
(civicvote/allocation/buildings.py, docs/secrecy.md). Ballots closed before this have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_neighbourhood"
down_revision = "0008_secrecy"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cast_ballots") as batch:
        batch.add_column(sa.Column("neighbourhood", sa.String(length=40), nullable=True))
    with op.batch_alter_table("funding_rounds") as batch:
        batch.add_column(
            sa.Column("building_min_ballots", sa.Integer(), nullable=False, server_default="20")
        )


def downgrade():
    with op.batch_alter_table("funding_rounds") as batch:
        batch.drop_column("building_min_ballots")
    with op.batch_alter_table("cast_ballots") as batch:
        batch.drop_column("neighbourhood")
