"""``civicvote audit verify`` and ``civicvote audit public-key``."""

import json
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit():
    """The append-only audit log."""


def _saved_heads(values: tuple[str, ...]) -> list:
    """Heads from files or inline JSON: one head, a list of heads, or an API page of them."""
    from .services import SavedHead

    heads = []
    for value in values:
        text = value if value.lstrip().startswith(("{", "[")) else None
        if text is None:
            try:
                text = Path(value).read_text()
            except (OSError, UnicodeDecodeError) as error:
                raise click.BadParameter(f"cannot read {value} as text: {error}") from error
        try:
            data = json.loads(text)
            if isinstance(data, dict) and isinstance(data.get("heads"), list):
                data = data["heads"]
            items = data if isinstance(data, list) else [data]
            heads += [SavedHead.from_json(item, source="saved") for item in items]
        except ValueError as error:  # JSONDecodeError is one
            raise click.BadParameter(f"{value[:60]} is not a saved head: {error}") from error
    return heads


def _public_keys(values: tuple[str, ...]) -> list:
    from .signing import SigningKeyError, parse_public_key

    keys = []
    for value in values:
        try:
            keys.append(parse_public_key(Path(value).read_text()))
        except (OSError, UnicodeDecodeError, SigningKeyError) as error:
            raise click.BadParameter(f"{value}: {error}") from error
    return keys


@audit.command("verify")
@click.option(
    "--expected-head",
    "expected_heads",
    multiple=True,
    metavar="HASH",
    help="A head hash published earlier: the chain must still pass through it.",
)
@click.option(
    "--head",
    "head_files",
    multiple=True,
    metavar="FILE|JSON",
    help="A head saved earlier (JSON as the API gives it, with count, time and signature; "
    "a list or an API page of them also works). Its signature is checked too.",
)
@click.option(
    "--public-key",
    "key_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A PEM public key that also signed heads (after a key change).",
)
@with_appcontext
def verify(expected_heads, head_files, key_files):
    """Recompute the hash chain and hold it to every head published or given.

    Exits 1 naming what is wrong: a changed entry, a removed or moved one, a gap in the
    numbering, entries removed from the end or a log rewritten after a head, a head whose
    signature does not check.
    """
    from .services import verify_chain

    report = verify_chain(
        expected_heads=[h.strip() for h in expected_heads],
        saved_heads=_saved_heads(head_files),
        public_keys=_public_keys(key_files),
    )
    for problem in report.problems:
        click.echo(f"BROKEN: {problem.message}", err=True)
    if not report.intact:
        raise SystemExit(1)
    click.echo(
        f"OK: {report.checked} entries, head {report.head}; "
        f"{report.heads_checked} published or saved heads hold."
    )


@audit.command("public-key")
@with_appcontext
def public_key():
    """Print the public key (PEM) that checks the signed heads; its fingerprint goes to stderr."""
    from .services import public_key_json

    key = public_key_json()
    click.echo(key["public_key_pem"], nl=False)
    click.echo(f"fingerprint (SHA-256 of the raw key): {key['fingerprint']}", err=True)
