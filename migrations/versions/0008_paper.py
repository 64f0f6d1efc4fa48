"""Paper ballots by sheet number: printed sheets, and entries that name no voter

Revision ID: 0008_paper
Revises: 0008_allocation

Entries of the old design were stored under the voter's key; they cannot be moved to a sheet
number (and must not be), so the table is made anew: pending entries of an open ballot are
entered again against the new sheets.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_paper"
down_revision = "0008_allocation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "paper_sheet_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_paper_sheet_batches_ballot_id_ballots")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_paper_sheet_batches_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_sheet_batches")),
        sa.UniqueConstraint(
            "ballot_id", "request_key", name=op.f("uq_paper_sheet_batches_ballot_id_request_key")
        ),
    )
    with op.batch_alter_table("paper_sheet_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_sheet_batches_ballot_id"), ["ballot_id"], unique=False
        )
    op.create_table(
        "paper_sheets",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_paper_sheets_ballot_id_ballots")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["paper_sheet_batches.id"],
            name=op.f("fk_paper_sheets_batch_id_paper_sheet_batches"),
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_paper_sheets")),
    )
    with op.batch_alter_table("paper_sheets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_sheets_ballot_id"), ["ballot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_paper_sheets_batch_id"), ["batch_id"], unique=False)
    op.drop_table("paper_ballot_entries")
    _entries_table(
        sa.Column("sheet_number", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["sheet_number"],
            ["paper_sheets.number"],
            name=op.f("fk_paper_ballot_entries_sheet_number_paper_sheets"),
        ),
        sa.UniqueConstraint(
            "sheet_number", "clerk_id", name=op.f("uq_paper_ballot_entries_sheet_number_clerk_id")
        ),
    )
    with op.batch_alter_table("paper_ballot_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_ballot_entries_sheet_number"), ["sheet_number"], unique=False
        )


def _entries_table(*columns):
    op.create_table(
        "paper_ballot_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("contents", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_paper_ballot_entries_ballot_id_ballots")
        ),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["users.id"], name=op.f("fk_paper_ballot_entries_clerk_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_ballot_entries")),
    )
    with op.batch_alter_table("paper_ballot_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_ballot_entries_ballot_id"), ["ballot_id"], unique=False
        )


def downgrade():
    op.drop_table("paper_ballot_entries")
    _entries_table(
        sa.Column("voter_key", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.UniqueConstraint(
            "ballot_id",
            "voter_key",
            "clerk_id",
            name=op.f("uq_paper_ballot_entries_ballot_id_voter_key_clerk_id"),
        ),
    )
    op.drop_table("paper_sheets")
    op.drop_table("paper_sheet_batches")
