"""Staff actions: walk-ins confirmed by a second person, card batches issued once, objection
answers with their history, a card's reason for withdrawal, a need's submitting browser

Revision ID: 0010_staff_actions
Revises: 0009_hardening
"""

from alembic import op
import sqlalchemy as sa

revision = "0010_staff_actions"
down_revision = "0009_hardening"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "card_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=True),
        sa.Column("requested", sa.Integer(), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_card_batches_ballot_id_ballots")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_card_batches_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_batches")),
        sa.UniqueConstraint("request_key", name=op.f("uq_card_batches_request_key")),
    )
    with op.batch_alter_table("card_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_batches_ballot_id"), ["ballot_id"], unique=False)

    op.create_table(
        "walk_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assembly_id"], ["assemblies.id"], name=op.f("fk_walk_ins_assembly_id_assemblies")
        ),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["users.id"], name=op.f("fk_walk_ins_clerk_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_walk_ins_confirmed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_walk_ins_credential_id_credentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_ins")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_walk_ins_credential_id")),
    )
    with op.batch_alter_table("walk_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_ins_assembly_id"), ["assembly_id"], unique=False)

    op.create_table(
        "objection_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_objection_answers_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["objection_id"],
            ["objections.id"],
            name=op.f("fk_objection_answers_objection_id_objections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_answers")),
    )
    with op.batch_alter_table("objection_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_objection_answers_objection_id"), ["objection_id"], unique=False
        )

    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_reason", sa.String(length=30), nullable=True))

    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitter_hash", sa.String(length=64), nullable=True))

    # Answers published before this version become each objection's first version.
    op.execute(
        "INSERT INTO objection_answers (objection_id, text, answered_by_id, answered_at) "
        "SELECT id, answer, answered_by_id, COALESCE(answered_at, created_at) FROM objections "
        "WHERE status = 'answered' AND answer <> ''"
    )


def downgrade():
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_column("submitter_hash")

    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("revoked_reason")

    with op.batch_alter_table("objection_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_answers_objection_id"))

    op.drop_table("objection_answers")
    with op.batch_alter_table("walk_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_ins_assembly_id"))

    op.drop_table("walk_ins")
    with op.batch_alter_table("card_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_batches_ballot_id"))

    op.drop_table("card_batches")
