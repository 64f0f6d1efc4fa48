"""Attack 3 (issue 14, finding 3): PostgreSQL's transaction ids (xmin), row positions (ctid)
and dead row versions, while the ballot is open and after it closes."""

from sqlalchemy import MetaData, text

from civicvote.ballots import lifecycle
from civicvote.extensions import db
from tests.secrecy.attack import cast_votes, readable_contents, secret_ballot, stored_values

# As in test_sqlite_files.py: paper joins once its entries carry no voter key (finding 5).
CHANNELS = {"web": 7, "api": 7, "paper": 7}
SCRUBBED = ("ballot_box", "cast_ballots", "participations", "vote_replays")


def _xmin_joins(connection, ballot_id: int) -> dict[str, list[str]]:
    """Each participation joined by transaction id to every row of every other table written
    by the same transaction: voter key -> the values of those rows."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    joined: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        if table.name == "participations":
            continue
        rows = connection.execute(
            text(
                "SELECT p.voter_key, row_to_json(t)::text FROM participations p "
                f'JOIN "{table.name}" t ON t.xmin = p.xmin WHERE p.ballot_id = :b'
            ),
            {"b": ballot_id},
        )
        for voter, values in rows:
            joined.setdefault(voter, []).append(values)
    return joined


def _links(joined: dict[str, list[str]], final_ballots: list) -> dict[str, object]:
    links = {}
    for voter, rows in joined.items():
        text_ = " ".join(rows)
        for contents in readable_contents(_json_values(rows)):
            links[voter] = contents
        for cast_id, receipt, contents in final_ballots:
            if cast_id in text_ or receipt in text_:
                links[voter] = contents
    return links


def _json_values(rows: list[str]) -> list[str]:
    import json

    values = []
    for row in rows:
        for value in json.loads(row).values():
            values.append(json.dumps(value) if isinstance(value, dict) else str(value))
    return values


def _dead_or_locked(connection, table: str) -> int:
    """Row versions on the table's pages that are not plain live rows (dead, deleted, updated,
    locked): pageinspect reads the pages themselves, not what a query sees."""
    pages = connection.execute(
        text("SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"),
        {"t": table},
    ).scalar()
    count = 0
    for page in range(pages):
        count += connection.execute(
            text(
                "SELECT count(*) FROM heap_page_items(get_raw_page(:t, :p)) "
                "WHERE lp_flags <> 1 OR t_xmax <> '0'"
            ),
            {"t": table, "p": page},
        ).scalar()
    return count


def test_transaction_ids_positions_and_dead_rows_link_no_vote(postgres_app):
    connection = db.session.connection()
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    db.session.commit()
    ballot = secret_ballot()
    cast_votes(postgres_app, ballot, CHANNELS)
    connection = db.session.connection()
    during = _xmin_joins(connection, ballot.id)
    seen_while_open = stored_values(connection)
    files = dict(
        connection.execute(
            text("SELECT relname, relfilenode FROM pg_class WHERE relname = ANY(:names)"),
            {"names": list(SCRUBBED)},
        ).all()
    )
    db.session.rollback()
    lifecycle.change_status(ballot.id, "close", actor=None)
    connection = db.session.connection()
    cast = connection.execute(
        text("SELECT id, receipt_code, contents::text, xmin::text FROM cast_ballots ORDER BY ctid")
    ).all()
    final = [(row[0], row[1], row[2]) for row in cast]
    assert len(final) == sum(CHANNELS.values())
    assert _links(during, final) == {}  # while open: nothing readable shares a transaction
    assert _links(_xmin_joins(connection, ballot.id), final) == {}
    # The cast ballots were all written by one transaction no participation shares, in the order
    # of ids drawn at the close, none of them stored before it.
    xmins = {row[3] for row in cast}
    participation_xmins = set(
        connection.execute(text("SELECT xmin::text FROM participations")).scalars()
    )
    assert len(xmins) == 1 and not xmins & participation_xmins
    assert [row[0] for row in cast] == sorted(row[0] for row in cast)
    assert not {row[0] for row in cast} & seen_while_open
    # Participations keep the day, not the time.
    times = connection.execute(text("SELECT DISTINCT cast_at::time FROM participations")).scalars()
    assert {str(t) for t in times} <= {"00:00:00"}
    # Rewritten files (VACUUM FULL), with no dead row versions left in them.
    after = dict(
        connection.execute(
            text("SELECT relname, relfilenode FROM pg_class WHERE relname = ANY(:names)"),
            {"names": list(SCRUBBED)},
        ).all()
    )
    assert set(after) == set(SCRUBBED)
    assert all(after[name] != files.get(name) for name in SCRUBBED)
    assert {name: _dead_or_locked(connection, name) for name in SCRUBBED} == dict.fromkeys(
        SCRUBBED, 0
    )
    assert connection.execute(text("SELECT count(*) FROM ballot_box")).scalar() == 0
