"""The presenter's board panel per community

Revision ID: 0005_board
Revises: 0004_casting
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_board"
down_revision = "0004_casting"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communities") as batch_op:
        batch_op.add_column(
            sa.Column("board_panel", sa.String(length=20), server_default="auto", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("communities") as batch_op:
        batch_op.drop_column("board_panel")
