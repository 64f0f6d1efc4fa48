"""The ``civicvote`` command: a Flask CLI group sharing the app's configuration."""

import os
import shutil
import subprocess
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate.cli import db as db_group
from werkzeug.serving import run_simple

from . import create_app
from .resources import PACKAGE_DIR, resource_dir


def register(app) -> None:
    from .audit.commands import audit
    from .backup import backup, restore
    from .ballots.commands import ballots
    from .registry.credential_commands import credentials
    from .voting.commands import reseal

    ballots.add_command(reseal)  # the sealing is voting's; the group is the ballots area's

    for command in (
        db_group,
        demo,
        seed_demo,
        serve,
        create_admin,
        translations,
        audit,
        backup,
        restore,
        ballots,
        credentials,
    ):
        app.cli.add_command(command)


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade(directory=str(resource_dir("migrations")))


def _database_is_current() -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from .extensions import db

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Upgrade the database and load the demo district if it is empty."""
    from .demo import load_demo

    _upgrade_database()
    summary = load_demo()
    click.echo(summary)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def demo(host: str, port: int):
    """Create the database if needed, load a demo district and serve it (development server)."""
    from .demo import load_demo

    _upgrade_database()
    if not current_app.config.get("PUBLIC_BASE_URL"):  # printed links name this server
        current_app.config["PUBLIC_BASE_URL"] = f"http://{host}:{port}"
    click.echo(load_demo())
    click.echo(f"Serving the demo on http://{host}:{port}/  (Ctrl+C to stop)")
    # Werkzeug's development server itself: Flask's app.run() does nothing when called from
    # a Flask command (it takes the call for a stray one at import time).
    run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--upgrade/--no-upgrade", default=False, help="Apply pending migrations before serving."
)
@with_appcontext
def serve(host: str, port: int, workers: int, threads: int, upgrade: bool):
    """Serve in production with gunicorn."""
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    if not base.startswith(("https://", "http://")):
        # Printed links (posters, voter cards, walk-in codes) carry it; without it they would
        # name whatever the development default is, never the Host a client sends.
        raise click.ClickException(
            "Set CIVICVOTE_PUBLIC_BASE_URL to the address residents open (for example "
            "https://vote.example.cn): it is printed on posters, voter cards and walk-in links."
        )
    storage = current_app.config["RATELIMIT_STORAGE_URI"]
    if workers > 1 and storage.startswith("memory"):
        raise click.ClickException(
            "Rate limits kept in memory are per worker, so several workers would multiply them. "
            "Set CIVICVOTE_RATELIMIT_STORAGE_URL=redis://127.0.0.1:6379/0 or use --workers 1."
        )
    if upgrade:
        _upgrade_database()
    elif not _database_is_current():
        raise click.ClickException(
            "The database schema is not current: run `civicvote db upgrade` first."
        )
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        # Logging, proxy headers, warm-up and the workers' pools: see gunicorn_conf.py.
        "--config",
        "python:civicvote.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    os.execv(sys.executable, args)  # noqa: S606 (fixed program, our own arguments)


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default="")
@with_appcontext
def create_admin(username: str, password: str, display_name: str):
    """Create an administrator account."""
    from .accounts.models import MIN_PASSWORD
    from .accounts.services import create_user
    from .errors import DomainError

    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD} characters.")
    try:
        create_user(username, password, display_name=display_name, is_admin=True)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Administrator {username} created.")


@click.group("translations")
def translations():
    """Extract, update and compile the message catalogs (wraps pybabel)."""


IGNORED_DIRS = ".* node_modules build dist artifacts"


def _pybabel(*args: str) -> None:
    pybabel = shutil.which("pybabel") or "pybabel"
    subprocess.run([pybabel, *args], check=True, cwd=PACKAGE_DIR.parent)  # noqa: S603


@translations.command("update")
def translations_update():
    """Extract messages from code and templates and merge them into every catalog."""
    # --ignore-dirs given explicitly: Babel's implicit default also skips "_"-folders (_macros).
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_ngettext:1,2",
        "--no-location",
        "--sort-output",
        "--ignore-dirs",
        IGNORED_DIRS,
        "-o",
        "translations/messages.pot",
        ".",
    )
    _pybabel(
        "update",
        "-i",
        "translations/messages.pot",
        "-d",
        "translations",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


@translations.command("compile")
def translations_compile():
    """Compile the catalogs into the .mo files the app reads."""
    _pybabel("compile", "-d", "translations", "--statistics")


def main() -> None:
    cli = FlaskGroup(
        create_app=create_app,
        add_default_commands=True,
        load_dotenv=False,
        help="civicvote: participatory budgeting and resident voting.",
    )
    # A recount needs no app, database or configuration: registered on the group rather than
    # with the app's commands (register), it starts without loading the app (which costs about
    # a second, and fails where the app is not configured).
    from .allocation.command import allocate_command

    cli.add_command(allocate_command, "allocate")
    cli.main(prog_name="civicvote")
