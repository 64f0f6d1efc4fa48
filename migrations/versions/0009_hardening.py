"""Sessions end on the server: a session version on each account, raised at logout

Revision ID: 0009_hardening
Revises: 0008_paper
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_hardening"
down_revision = "0008_paper"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
