"""Signed heads of the audit chain, published at every milestone

Revision ID: 0007_audit_trail
Revises: 0006_proposal_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_trail"
down_revision = "0006_proposal_documents"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_audit_heads_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_heads")),
        sa.UniqueConstraint("count", name=op.f("uq_audit_heads_count")),
    )
    with op.batch_alter_table("audit_heads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_heads_community_id"), ["community_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("audit_heads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_heads_community_id"))
    op.drop_table("audit_heads")
