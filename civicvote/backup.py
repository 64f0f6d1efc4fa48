"""Backup and restore of the SQLite database with SQLite's online backup API.

The backup is a consistent snapshot even while the server is writing: SQLite copies the pages
under its own locks. PostgreSQL deployments use pg_dump / pg_restore instead (see README).
"""

import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from .config import create_private_file


def _sqlite_path() -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException(
            "backup and restore work on SQLite; for PostgreSQL use pg_dump and pg_restore "
            "(see README)."
        )
    return Path(url.database)


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy the live database at ``source`` into a new file ``target`` (mode 0600)."""
    create_private_file(target)
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    copy.close()
    live.close()


def check_backup(path: Path) -> None:
    """Refuse anything that is not an intact civicvote database."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        connection.close()
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{path} is not a SQLite database: {error}") from error
    if status != "ok":
        raise click.ClickException(f"{path} is damaged: {status}")
    if not {"alembic_version", "communities", "audit_events"} <= tables:
        raise click.ClickException(f"{path} is not a civicvote database.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(target: Path):
    """Write a consistent copy of the SQLite database to TARGET (safe while serving)."""
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file name.")
    backup_sqlite(_sqlite_path(), target)
    check_backup(target)
    click.echo(f"Backed up to {target}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(source: Path, yes: bool):
    """Replace the SQLite database with the backup SOURCE (stop the server first)."""
    check_backup(source)
    target = _sqlite_path()
    if not yes:
        click.confirm(f"Replace {target} with {source}?", abort=True)
    from .extensions import db

    db.engine.dispose()
    backup_sqlite(source, target)
    click.echo(f"Restored {target} from {source}")
