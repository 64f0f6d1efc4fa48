"""Intake and proposals: one-time submission keys, documents a proposal provides

Revision ID: 0002_intake
Revises: 0001
Create Date: 2026-11-26 22:20:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0002_intake"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_needs_submission_key"), ["submission_key"])
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("documents", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_proposals_submission_key"), ["submission_key"]
        )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.alter_column("documents", server_default=None)


def downgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_proposals_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
        batch_op.drop_column("documents")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_needs_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
