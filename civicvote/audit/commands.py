"""``civicvote audit verify``: recompute the hash chain."""

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit():
    """The append-only audit log."""


@audit.command("verify")
@click.option(
    "--expected-head",
    default=None,
    help="A head hash published earlier: detects entries removed from the end.",
)
@with_appcontext
def verify(expected_head: str | None):
    """Exit non-zero naming the first broken entry if any row was changed, removed or moved."""
    from .services import verify_chain

    report = verify_chain(expected_head)
    if report.broken is not None:
        event = report.broken
        what = (
            "does not link to the entry before it (an entry was removed or moved)"
            if report.reason == "link"
            else "was changed after it was written"
        )
        click.echo(f"BROKEN: audit entry {event.id} ({event.action}) {what}.", err=True)
        raise SystemExit(1)
    if report.reason:
        why = (
            "entries after it were removed"
            if report.reason == "head-moved"
            else "the expected head is unknown"
        )
        click.echo(
            f"BROKEN: the chain ends at {report.head}, not at the expected head ({why}).", err=True
        )
        raise SystemExit(1)
    click.echo(f"OK: {report.checked} entries, head {report.head}")
