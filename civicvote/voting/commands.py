"""``civicvote ballots reseal ID``: finish a ballot's close that did not finish (docs/secrecy.md).

It belongs to the ``ballots`` command group (cli.py adds it there) but lives with the sealing,
which the ballots area, lower in the layers, cannot import."""

import click
from flask.cli import with_appcontext

from ..errors import DomainError


@click.command("reseal")
@click.argument("ballot_id", type=int)
@with_appcontext
def reseal(ballot_id: int):
    """Seal and scrub closed ballot BALLOT_ID again, when its close did not finish.

    Safe to run more than once. Exits with status 1 if the scrub could not complete (a lock
    or a reader held too long: run it again later)."""
    from .sealing import complete_close

    try:
        left, scrubbed = complete_close(ballot_id)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Ballot {ballot_id}: {left} entries were still in the ballot box; sealed.")
    if not scrubbed:
        raise click.ClickException(
            "The tables could not be scrubbed (see the log); run this command again."
        )
    click.echo("The tables were scrubbed.")
