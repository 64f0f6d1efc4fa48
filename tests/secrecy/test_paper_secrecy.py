"""Attack: after the close, can anything stored tie a resident who received a paper ballot to
the sheet they took or to what it said? The adversary holds the whole database (every table,
the audit log's details) and every staff role's pages. Run on SQLite and PostgreSQL.

Fails on the code before sheet numbers: paper entries were stored under the voter's key (and
a dispute kept both entries' choices with it), and the supervisor's page showed "Voter h24".
"""

import json
import re

import pytest
from sqlalchemy import text

from civicvote.ballots import lifecycle
from civicvote.extensions import db
from civicvote.voting import casting, paper, paper_sheets
from tests import factories
from tests.conftest import IsolatedClient


def _rows() -> dict[str, list[str]]:
    """Every row of every table, as JSON text."""
    found = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).mappings().all()
        found[table.name] = [json.dumps(dict(r), default=str, ensure_ascii=False) for r in rows]
    return found


@pytest.fixture
def closed_ballot(app):
    """Four residents took paper ballots, one voted by phone; the sheets were entered (two
    agreeing, two disputed and decided, one left waiting); then the ballot closed."""
    community = factories.community()
    households = factories.registry(community, buildings=2, rooms=3, per_room=1)
    ballot = factories.ballot(factories.funding_round(community), mode="mixed")
    a, b, c = (item.proposal_id for item in ballot.items)
    clerk1, clerk2 = (factories.user(f"clerk{n}", roles=[(community, "clerk")]) for n in (1, 2))
    supervisor = factories.user("super", roles=[(community, "supervisor")])
    organizer = factories.user("org", roles=[(community, "organizer")])
    batch = paper_sheets.print_sheets(ballot, 10, "k", actor=organizer).batch
    numbers = paper_sheets.batch_numbers(batch)
    residents = [h.residents[0] for h in households]
    for resident in residents[:4]:
        paper.hand_over(ballot.id, resident.id, clerk=clerk1)
    _card, token, _short = factories.credential(ballot, f"h{households[4].id}")
    casting.cast_vote(ballot.id, token, {"selections": [b]})
    sheets = {
        numbers[0]: ({"selections": [a]}, {"selections": [a]}),
        numbers[1]: ({"selections": [b, c]}, {"selections": [c, b]}),
        numbers[2]: ({"selections": [a]}, {"selections": [b]}),
        numbers[3]: ({"selections": [a, b]}, {"selections": [c]}),
    }
    for number, (first, second) in sheets.items():
        paper.enter_sheet(ballot.id, number, first, clerk=clerk1)
        paper.enter_sheet(ballot.id, number, second, clerk=clerk2)
    paper.enter_sheet(ballot.id, numbers[4], {"selections": [c]}, clerk=clerk1)  # left waiting
    pages = _supervisor_pages(app, community, ballot, [numbers[2], numbers[3]])
    chosen = paper.dispute(ballot.id, numbers[2]).entries[1].id
    paper.settle_dispute(ballot.id, numbers[2], str(chosen), None, supervisor=supervisor)
    paper.settle_dispute(ballot.id, numbers[3], "sheet", {"selections": [c]}, supervisor=supervisor)
    lifecycle.change_status(ballot.id, "close", actor=organizer)
    voters = []
    for resident in residents:
        household = resident.household
        voters.append(
            {
                f"h{household.id}",
                resident.name,
                resident.external_ref,
                household.address,
                household.building + household.unit + household.room,
            }
        )
    return {"ballot": ballot, "numbers": numbers, "voters": voters, "pages": pages}


def _supervisor_pages(app, community, ballot, disputed) -> list[str]:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    factories.login(client, "super")
    base = f"/console/c/{community.slug}/ballots/{ballot.id}"
    urls = [base] + [f"{base}/paper/disputes/{number}" for number in disputed]
    return [client.get(url).get_data(as_text=True) for url in urls]


def _mentions_voter(row: str, identities: set[str]) -> bool:
    for identity in identities:
        if re.fullmatch(r"h\d+", identity):
            if re.search(rf'"{identity}"', row):  # a stored key is a whole JSON string
                return True
        elif identity in row:
            return True
    return False


def test_no_row_ties_a_voter_to_a_sheet_or_to_choices(closed_ballot):
    numbers, voters = closed_ballot["numbers"], closed_ballot["voters"]
    everyone = set().union(*voters)
    rows = _rows()
    links = []
    for table, texts in rows.items():
        for row in texts:
            sheet = any(n in row for n in numbers)
            choices = '"selections"' in row
            if _mentions_voter(row, everyone) and (sheet or choices):
                links.append((table, row))
            if sheet and choices:
                links.append((table, row))
    assert links == []
    # Choices live only in the cast ballots (which name no one); entries keep none.
    holding = {t for t, texts in rows.items() if any('"selections"' in r for r in texts)}
    assert holding == {"cast_ballots"}
    entries = db.session.execute(text("SELECT contents FROM paper_ballot_entries")).scalars()
    assert all(json.loads(c) in ({}, "{}") if isinstance(c, str) else c == {} for c in entries)
    # Four paper ballots and one phone vote are counted, once each.
    assert len(rows["cast_ballots"]) == 5
    assert len([r for r in rows["participations"] if '"paper"' in r]) == 4


def test_the_audit_log_names_the_voter_only_at_the_hand_over(closed_ballot):
    numbers, voters = closed_ballot["numbers"], closed_ballot["voters"]
    everyone = set().union(*voters)
    rows = db.session.execute(text("SELECT action, before, after FROM audit_events")).all()
    for action, before, after in rows:
        details = json.dumps([before, after], default=str, ensure_ascii=False)
        if action.startswith("paper_"):
            assert "selections" not in details, action
        if _mentions_voter(details, everyone):
            assert not any(n in details for n in numbers), (action, details)
            assert action in {"paper_ballot.hand_over", "credentials.issue"}, (action, details)


def test_the_supervisor_never_sees_a_voter(closed_ballot):
    everyone = set().union(*closed_ballot["voters"])
    for page in closed_ballot["pages"]:
        # No entry is labelled with a voter ("选民 h24"); the quorum rule may say "选民".
        assert not re.search(r"(选民|Voter)\s*[A-Za-z]*\d", page)
        for identity in everyone:
            if re.fullmatch(r"h\d+", identity):
                assert not re.search(rf"(?<![<\w/]){identity}\b", page), identity
            else:
                assert identity not in page, identity
    assert 'type="radio" name="choice"' in closed_ballot["pages"][1]


def test_postgres_transaction_ids_do_not_join_participations_sheets_and_ballots(closed_ballot):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("xmin is PostgreSQL's")
    ballot_id = closed_ballot["ballot"].id
    joined = {
        "participations": "SELECT count(*) FROM participations p JOIN cast_ballots c "
        "ON p.xmin::text = c.xmin::text WHERE c.ballot_id = :b",
        "paper_sheets": "SELECT count(*) FROM paper_sheets s JOIN cast_ballots c "
        "ON s.xmin::text = c.xmin::text WHERE c.ballot_id = :b",
    }
    for name, sql in joined.items():
        assert db.session.scalar(text(sql), {"b": ballot_id}) == 0, name
    # Rewritten at the close: every cast ballot carries the close's transaction id.
    distinct = "SELECT count(DISTINCT xmin::text) FROM cast_ballots WHERE ballot_id = :b"
    assert db.session.scalar(text(distinct), {"b": ballot_id}) == 1
