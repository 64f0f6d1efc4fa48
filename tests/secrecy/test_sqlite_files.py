"""Attack 2 (issue 14, finding 2): the SQLite file and its -wal copied at every commit while
the ballot is open, rebuilt commit by commit, and the files read raw after the close."""

import shutil
from pathlib import Path

from sqlalchemy import create_engine

from civicvote.ballots import lifecycle
from civicvote.extensions import db
from tests.secrecy.attack import all_rows, cast_votes, readable_contents, secret_ballot

CHANNELS = {"web": 7, "api": 7, "paper": 7}


def _copy(database: Path, target: Path) -> Path:
    target.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{database}{suffix}")
        if source.exists():
            shutil.copy(source, target / f"copy.db{suffix}")
    return target / "copy.db"


def _rows(path: Path) -> dict:
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        rows = all_rows(connection)
    engine.dispose()
    return rows


def _values(rows) -> set[str]:
    return {value for row in rows for _column, value in row if value is not None}


def _links(copies: list[dict], final: dict) -> dict[str, object]:
    """Pair each commit's new participation with what else that commit wrote: contents in
    clear, or a value (id, receipt) that the closed ballot's cast ballots carry."""
    final_ballots = [dict(row) for row in final["cast_ballots"]]
    links = {}
    for before, after in zip(copies, copies[1:], strict=False):
        new = {name: after[name] - before.get(name, set()) for name in after}
        voters = [dict(row)["voter_key"] for row in new.pop("participations")]
        written = _values(row for rows in new.values() for row in rows)
        for voter in voters:
            for contents in readable_contents(written):
                links[voter] = contents
            for cast in final_ballots:
                if {cast["id"], cast["receipt_code"]} & written:
                    links[voter] = cast["contents"]
    return links


def test_the_files_copied_at_every_commit_link_no_vote(sqlite_app, tmp_path):
    database = Path(db.engine.url.database)
    ballot = secret_ballot()
    copies = [_rows(_copy(database, tmp_path / "start"))]

    def snapshot():
        copies.append(_rows(_copy(database, tmp_path / f"commit-{len(copies)}")))

    cast_votes(sqlite_app, ballot, CHANNELS, after_each=snapshot)
    db.session.rollback()
    lifecycle.change_status(ballot.id, "close", actor=None)
    db.session.remove()
    final = _rows(_copy(database, tmp_path / "closed"))
    assert _links(copies, final) == {}
    # After the close the -wal holds no frames, and no row the close removed (sealed contents,
    # receipts kept for retries) is left in a free page or anywhere else in the file.
    wal = Path(f"{database}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    raw = database.read_bytes()
    assert raw.count(b"selections") == len(final["cast_ballots"]) == sum(CHANNELS.values())
    kept = _values(row for rows in final.values() for row in rows)
    removed = set()
    for copy in copies:
        for rows in copy.values():
            removed |= _values(rows)
    removed = {v for v in removed - kept if len(v) >= 16}
    assert [v for v in removed if v.encode() in raw or _hex_in(v, raw)] == []


def _hex_in(value: str, raw: bytes) -> bool:
    try:
        return bytes.fromhex(value) in raw
    except ValueError:
        return False
