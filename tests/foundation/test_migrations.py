"""The schema comes from the migrations: upgrading an empty database yields the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from civicvote.extensions import db


def test_migrations_build_exactly_the_models_schema(app):
    # The app fixture's database was built by `upgrade()` from empty (see conftest).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_database_is_at_the_single_head(app):
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, "migrations have diverged into several heads"
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)
