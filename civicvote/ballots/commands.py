"""``civicvote ballots list|open|pause|close ID``: what the console does, from a script."""

import click
from flask.cli import with_appcontext

from ..errors import DomainError


@click.group("ballots")
def ballots():
    """List, open, pause and close ballots."""


@ballots.command("list")
@with_appcontext
def list_ballots():
    """Every ballot, one per line: id, status, round and title (tab-separated)."""
    from ..extensions import db
    from .models import Ballot

    for ballot in db.session.scalars(db.select(Ballot).order_by(Ballot.id)):
        click.echo(f"{ballot.id}\t{ballot.status}\t{ballot.round.name}\t{ballot.title}")


def _change(ballot_id: int, action: str) -> None:
    from .lifecycle import change_status

    try:
        ballot = change_status(ballot_id, action, actor=None)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Ballot {ballot.id} is now {ballot.status}.")


@ballots.command("open")
@click.argument("ballot_id", type=int)
@with_appcontext
def open_ballot(ballot_id: int):
    """Open (or reopen after a pause) ballot BALLOT_ID."""
    _change(ballot_id, "open")


@ballots.command("pause")
@click.argument("ballot_id", type=int)
@with_appcontext
def pause_ballot(ballot_id: int):
    """Pause ballot BALLOT_ID: votes are refused until it is opened again."""
    _change(ballot_id, "pause")


@ballots.command("close")
@click.argument("ballot_id", type=int)
@with_appcontext
def close_ballot(ballot_id: int):
    """Close ballot BALLOT_ID for good."""
    _change(ballot_id, "close")
