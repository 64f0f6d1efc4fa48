"""Files for the documents a round requires of every proposal

Revision ID: 0006_proposal_documents
Revises: 0005_board
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_proposal_documents"
down_revision = "0005_board"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "proposal_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "name"),
    )
    op.create_index(
        "ix_proposal_documents_proposal_id", "proposal_documents", ["proposal_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_proposal_documents_proposal_id", table_name="proposal_documents")
    op.drop_table("proposal_documents")
