"""Cast ballots without SQLite's hidden rowid

Revision ID: 0004_casting
Revises: 0002_intake
Create Date: 2026-11-26 22:20:00

A SQLite table whose primary key is not an INTEGER still numbers its rows with a hidden, increasing
``rowid``: ordered by it, cast ballots would line up with participations ordered by their id or
time, linking each ballot to its voter. ``WITHOUT ROWID`` stores the rows by their random id
instead. PostgreSQL needs no schema change (see ballots.services._reshuffle_storage).
"""

from alembic import op


revision = "0004_casting"
down_revision = "0002_intake"
branch_labels = None
depends_on = None


def _rebuild(without_rowid: bool):
    if op.get_bind().dialect.name != "sqlite":
        return
    suffix = " WITHOUT ROWID" if without_rowid else ""
    op.execute(
        "CREATE TABLE _cast_ballots_new ("
        "id VARCHAR(32) NOT NULL, "
        "ballot_id INTEGER NOT NULL, "
        "contents JSON NOT NULL, "
        "receipt_code VARCHAR(20) NOT NULL, "
        "CONSTRAINT pk_cast_ballots PRIMARY KEY (id), "
        "CONSTRAINT fk_cast_ballots_ballot_id_ballots FOREIGN KEY(ballot_id) REFERENCES ballots (id), "
        "CONSTRAINT uq_cast_ballots_receipt_code UNIQUE (receipt_code))" + suffix
    )
    op.execute(
        "INSERT INTO _cast_ballots_new (id, ballot_id, contents, receipt_code) "
        "SELECT id, ballot_id, contents, receipt_code FROM cast_ballots ORDER BY id"
    )
    op.execute("DROP INDEX IF EXISTS ix_cast_ballots_ballot_id")
    op.execute("DROP TABLE cast_ballots")
    op.execute("ALTER TABLE _cast_ballots_new RENAME TO cast_ballots")
    op.execute("CREATE INDEX ix_cast_ballots_ballot_id ON cast_ballots (ballot_id)")


def upgrade():
    _rebuild(without_rowid=True)


def downgrade():
    _rebuild(without_rowid=False)
