"""``civicvote credentials issue|revoke``: voter cards from a script, for a print run."""

import csv
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..csvsafe import safe_cell
from ..errors import DomainError
from ..extensions import db
from .credentials import base_url_for, issue_credentials, revoke_credentials

CSV_COLUMNS = ("voter", "token", "link")


@click.group("credentials")
def credentials():
    """Issue and revoke voter cards (credentials) of a ballot."""


@credentials.command("issue")
@click.option("--ballot", "ballot_id", required=True, type=click.IntRange(1))
@click.option("--building", default=None, help="Only voters of this building (e.g. 3栋).")
@click.option(
    "--count",
    default=None,
    type=click.IntRange(1, 100_000),
    help="Issue at most N cards, to the next eligible voters without one.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV to write (voter, token, link). It must not exist yet.",
)
@with_appcontext
def issue(ballot_id: int, building: str | None, count: int | None, out: Path):
    """Issue cards to eligible voters who have none and write their tokens to a CSV, once.

    Only hashes are stored: the tokens in this file cannot be read back later, so keep it
    safe until the cards are printed, then delete it.
    """
    if out.exists():
        raise click.ClickException(f"{out} exists; choose a new file (tokens are never rewritten).")
    base_url = base_url_for(current_app.config)

    def write(cards) -> None:
        # Written before the cards are committed: if it cannot be written, nothing was issued.
        # Created new (never overwritten) and readable by its owner only: it holds the tokens.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for card in cards:
                # The label is registry text, never a formula; tokens are written as issued.
                writer.writerow([safe_cell(card.label), card.token, card.link])

    try:
        cards = issue_credentials(
            ballot_id, building, count, base_url=base_url, before_commit=write
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    except OSError as error:
        db.session.rollback()
        out.unlink(missing_ok=True)
        raise click.ClickException(f"Could not write {out}: {error.strerror}") from error
    click.echo(f"{len(cards)} cards issued for ballot {ballot_id}; written to {out}")


@credentials.command("revoke")
@click.option("--ballot", "ballot_id", required=True, type=click.IntRange(1))
@click.option("--voter", "voter_key", default=None, help="Voter key, e.g. h12 or r345.")
@click.option("--code", default=None, help="The card's short code, token or link.")
@with_appcontext
def revoke(ballot_id: int, voter_key: str | None, code: str | None):
    """Revoke a lost or misprinted card (by voter key or by the card's code)."""
    try:
        revoked = revoke_credentials(ballot_id, voter_key=voter_key, secret=code)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    if not revoked:
        raise click.ClickException("No live card matched; nothing was revoked.")
    click.echo(f"{revoked} credential(s) revoked.")
