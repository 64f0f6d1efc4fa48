"""Issue 14, finding 6: a copy of the database gives back no voter card.

The adversary holds a copy of the database (SQLite: the file; PostgreSQL: a ``pg_dump``), not
the instance's SECRET_KEY. Before migration 0008 the tokens and short codes were stored as
unsalted SHA-256: enumerating the ~49-bit short-code space (30^10 codes) finds every unused card.
The enumeration below tries every code that an exhaustive search would reach first (the cards'
own codes and tokens, mixed with random ones) with every hash the thief can compute: none
matches. With the key, the same candidates match every card: the dump holds the hashes, and
only the key is missing. These tests fail on the code before 0008 (every SHA-256 matches).
"""

import hashlib
import hmac
import secrets
import sqlite3
import subprocess

import pytest
from sqlalchemy.engine import make_url

from civicvote.extensions import db
from civicvote.registry.credentials import issue_credentials, new_short_code
from tests import factories

BASE = "https://vote.example.cn"


def _database_copy(tmp_path) -> list[tuple[str, str]]:
    """(token_hash, short_code_hash) of every unused card, read from a copy of the database."""
    url = make_url(db.engine.url)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / "stolen.db"
        with sqlite3.connect(url.database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        with sqlite3.connect(copy) as stolen:
            return stolen.execute(
                "SELECT token_hash, short_code_hash FROM credentials WHERE used_at IS NULL"
            ).fetchall()
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--table=credentials",
            "--column-inserts",
            url.set(drivername="postgresql").render_as_string(hide_password=False),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line for line in dump.splitlines() if line.startswith("INSERT INTO")]
    columns = rows[0].split("(", 1)[1].split(")", 1)[0].replace(" ", "").split(",")
    pairs = []
    for line in rows:
        values = [v.strip().strip("'") for v in line.split("VALUES (", 1)[1][:-2].split(",")]
        row = dict(zip(columns, values, strict=True))
        if row["used_at"] == "NULL":
            pairs.append((row["token_hash"], row["short_code_hash"]))
    return pairs


def _offline_hashes(candidate: str) -> set[str]:
    """Every hash a thief without SECRET_KEY can compute for a candidate code or token."""
    return {
        hashlib.sha256(candidate.encode()).hexdigest(),  # the scheme before 0008
        hmac.new(b"", candidate.encode(), hashlib.sha256).hexdigest(),  # an empty key
    }


@pytest.fixture
def issued(app):
    app.config["SECRET_KEY"] = secrets.token_hex(32)  # as generated into instance/secret_key
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household", year=2026)
    factories.registry(community, buildings=2, rooms=5, per_room=1)
    ballot = factories.ballot(funding_round)
    cards = issue_credentials(ballot.id, base_url=BASE)
    db.session.commit()
    return cards


def test_a_database_copy_gives_back_no_unused_card(issued, tmp_path):
    stolen = _database_copy(tmp_path)
    assert len(stolen) == len(issued) == 10
    stored = {h for pair in stolen for h in pair}
    candidates = [new_short_code() for _ in range(5000)]
    candidates += [card.short_code for card in issued] + [card.token for card in issued]
    found = [c for c in candidates if _offline_hashes(c) & stored]
    assert found == []


def test_with_the_instance_key_the_same_search_finds_every_card(issued, tmp_path):
    # The control: the hashes are in the copy; the key is what the thief lacks.
    from civicvote.registry.credentials import hash_secret

    stored = {h for pair in _database_copy(tmp_path) for h in pair}
    found = {card.short_code for card in issued if hash_secret(card.short_code) in stored}
    assert found == {card.short_code for card in issued}
