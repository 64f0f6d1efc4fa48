"""A round chooses what the Method of Equal Shares does with the money it leaves

Revision ID: 0008_allocation
Revises: 0008_secrecy_edges
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_allocation"
down_revision = "0008_secrecy_edges"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("funding_rounds") as batch:
        batch.add_column(
            sa.Column("mes_completion", sa.String(length=30), nullable=False, server_default="add1")
        )


def downgrade():
    with op.batch_alter_table("funding_rounds") as batch:
        batch.drop_column("mes_completion")
