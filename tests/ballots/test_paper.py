"""Paper ballots: hand-over at the desk, printed sheets, double entry and the supervisor's
decision, as services and through the console's pages."""

import re
import threading

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.ballots import lifecycle
from civicvote.ballots.models import PaperBallotEntry, PaperSheet, Participation
from civicvote.errors import Conflict, DomainError, Forbidden, NotFound
from civicvote.extensions import db
from civicvote.registry.credentials import SHORT_ALPHABET
from civicvote.voting import casting, paper, paper_sheets
from civicvote.voting.tally import tally
from tests import factories
from tests.conftest import IsolatedClient


def count(model, **where) -> int:
    query = db.select(db.func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def ids(ballot):
    return [item.proposal_id for item in ballot.items]


@pytest.fixture
def desk(app):
    """A community with a registry, an open mixed ballot, two clerks, a supervisor, 10 sheets."""
    community = factories.community()
    households = factories.registry(community)
    ballot = factories.ballot(factories.funding_round(community), mode="mixed")
    staff = {
        name: factories.user(name, roles=[(community, role)])
        for name, role in (("clerk1", "clerk"), ("clerk2", "clerk"), ("super", "supervisor"))
    }
    staff["organizer"] = factories.user("org1", roles=[(community, "organizer")])
    printed = paper_sheets.print_sheets(ballot, 10, "first-batch", actor=staff["organizer"])
    numbers = paper_sheets.batch_numbers(printed.batch)
    residents = [r for h in households for r in h.residents]
    return community, ballot, staff, numbers, residents


def test_sheet_numbers_are_random_easy_to_type_and_printed_once_per_form(desk):
    _community, ballot, staff, numbers, _residents = desk
    assert len(set(numbers)) == 10
    assert all(len(n) == 8 and set(n) <= set(SHORT_ALPHABET) for n in numbers)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", paper_sheets.format_sheet_number(numbers[0]))
    # The same form sent again (reload, double click, back and resend) prints nothing new.
    again = paper_sheets.print_sheets(ballot, 10, "first-batch", actor=staff["organizer"])
    assert not again.created and paper_sheets.batch_numbers(again.batch) == numbers
    assert count(PaperSheet) == 10
    assert count(AuditEvent, action="paper_sheets.print") == 1
    with pytest.raises(DomainError):
        paper_sheets.print_sheets(ballot, 0, "other", actor=staff["organizer"])
    # Typed with a dash, spaces or in lower case, a number is the same number.
    assert (
        paper_sheets.normalize_sheet_number(" " + numbers[0][:4].lower() + "-" + numbers[0][4:])
        == numbers[0]
    )


def test_the_hand_over_records_who_took_part_and_nothing_else(desk):
    _community, ballot, staff, _numbers, residents = desk
    voter = paper.hand_over(ballot.id, residents[0].id, clerk=staff["clerk1"])
    assert voter.key == f"h{residents[0].household_id}"  # the round votes by household
    participation = db.session.scalar(db.select(Participation))
    assert (participation.channel, participation.credential_id) == ("paper", None)
    assert factories.stored_count() == 0
    # The household's other resident cannot get a second sheet, nor vote by phone.
    with pytest.raises(Conflict) as error:
        paper.hand_over(ballot.id, residents[1].id, clerk=staff["clerk2"])
    assert error.value.code == "already_handed_over"
    _card, token, _short = factories.credential(ballot, voter.key)
    with pytest.raises(Conflict):
        casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="paper_ballot.hand_over"))
    assert event.after == {"voter_key": voter.key} and event.actor_id == staff["clerk1"].id


def test_no_sheet_for_a_resident_who_voted_by_phone_or_is_not_on_this_registry(desk):
    _community, ballot, staff, _numbers, residents = desk
    key = f"h{residents[2].household_id}"
    _card, token, _short = factories.credential(ballot, key)
    casting.cast_vote(ballot.id, token, {"selections": ids(ballot)[:1]})
    with pytest.raises(Conflict) as error:
        paper.hand_over(ballot.id, residents[2].id, clerk=staff["clerk1"])
    assert error.value.code == "already_voted"
    refused = db.session.scalar(
        db.select(AuditEvent).filter_by(action="ballot.double_channel_refused")
    )
    assert refused.after == {"voter_key": key, "attempted": "paper", "already": "online"}
    stranger = factories.resident(factories.household(factories.community()))
    with pytest.raises(NotFound):
        paper.hand_over(ballot.id, stranger.id, clerk=staff["clerk1"])
    residents[4].eligible = residents[5].eligible = False
    db.session.commit()
    with pytest.raises(DomainError) as error:
        paper.hand_over(ballot.id, residents[4].id, clerk=staff["clerk1"])
    assert error.value.code == "ineligible"


def test_two_agreeing_entries_count_the_sheet_once_and_keep_no_choices(desk):
    _community, ballot, staff, numbers, residents = desk
    a, b, c = ids(ballot)
    paper.hand_over(ballot.id, residents[0].id, clerk=staff["clerk1"])
    first = paper.enter_sheet(ballot.id, numbers[0], {"selections": [a, b]}, clerk=staff["clerk1"])
    assert first.status == "pending" and factories.stored_count() == 0
    # The same clerk's form sent twice is one entry; other choices from them are refused.
    again = paper.enter_sheet(ballot.id, numbers[0], {"selections": [b, a]}, clerk=staff["clerk1"])
    assert again.id == first.id
    with pytest.raises(Conflict) as error:
        paper.enter_sheet(ballot.id, numbers[0], {"selections": [a]}, clerk=staff["clerk1"])
    assert error.value.code == "same_clerk"
    typed = numbers[0][:4].lower() + " " + numbers[0][4:]
    second = paper.enter_sheet(ballot.id, typed, {"selections": [b, a]}, clerk=staff["clerk2"])
    assert second.status == "matched"
    assert tally(ballot.id).votes == {a: 1, b: 1, c: 0}
    assert db.session.get(PaperSheet, numbers[0]).status == "counted"
    entries = list(db.session.scalars(db.select(PaperBallotEntry)))
    assert [(e.status, e.contents) for e in entries] == [("matched", {}), ("matched", {})]
    with pytest.raises(Conflict) as error:
        paper.enter_sheet(ballot.id, numbers[0], {"selections": [a]}, clerk=staff["organizer"])
    assert error.value.code == "counted"


def test_unknown_numbers_and_more_sheets_than_hand_overs_are_refused(desk):
    _community, ballot, staff, numbers, residents = desk
    a = ids(ballot)[0]
    other = factories.ballot(factories.funding_round(factories.community()))
    foreign = paper_sheets.print_sheets(other, 1, "k", actor=staff["organizer"])
    for number in ("ZZZZ-ZZZZ", paper_sheets.batch_numbers(foreign.batch)[0], ""):
        with pytest.raises(DomainError) as error:
            paper.enter_sheet(ballot.id, number, {"selections": [a]}, clerk=staff["clerk1"])
        assert error.value.code == "unknown_sheet"
    # No hand-over yet: two agreeing entries cannot count a sheet nobody received.
    paper.enter_sheet(ballot.id, numbers[1], {"selections": [a]}, clerk=staff["clerk1"])
    with pytest.raises(Conflict) as error:
        paper.enter_sheet(ballot.id, numbers[1], {"selections": [a]}, clerk=staff["clerk2"])
    assert error.value.code == "more_than_handed_over"
    assert factories.stored_count() == 0
    paper.hand_over(ballot.id, residents[0].id, clerk=staff["clerk1"])
    paper.enter_sheet(ballot.id, numbers[1], {"selections": [a]}, clerk=staff["clerk2"])
    assert factories.stored_count() == 1


def _dispute(desk, first, second):
    _community, ballot, staff, numbers, residents = desk
    paper.hand_over(ballot.id, residents[0].id, clerk=staff["clerk1"])
    paper.enter_sheet(ballot.id, numbers[2], first, clerk=staff["clerk1"])
    entry = paper.enter_sheet(ballot.id, numbers[2], second, clerk=staff["clerk2"])
    assert entry.status == "mismatch"
    return paper.dispute(ballot.id, numbers[2])


def test_the_supervisor_picks_the_entry_the_sheet_shows(desk):
    _community, ballot, staff, numbers, _residents = desk
    a, b, c = ids(ballot)
    found = _dispute(desk, {"selections": [a]}, {"selections": [b]})
    assert [e.contents for e in found.entries] == [{"selections": [a]}, {"selections": [b]}]
    with pytest.raises(Conflict) as error:  # a third clerk cannot enter it meanwhile
        paper.enter_sheet(ballot.id, numbers[2], {"selections": [a]}, clerk=staff["organizer"])
    assert error.value.code == "disputed"
    with pytest.raises(DomainError):
        paper.settle_dispute(ballot.id, numbers[2], "nonsense", None, supervisor=staff["super"])
    right = found.entries[1]
    paper.settle_dispute(ballot.id, numbers[2], str(right.id), None, supervisor=staff["super"])
    assert tally(ballot.id).votes == {a: 0, b: 1, c: 0}
    entries = {e.id: e for e in db.session.scalars(db.select(PaperBallotEntry))}
    assert entries[right.id].status == "chosen"
    assert all(e.contents == {} for e in entries.values())  # the losing choices are gone
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="paper_ballot.resolve"))
    assert event.actor_id == staff["super"].id
    assert event.after == {"sheet": numbers[2], "entry": right.id, "from_sheet": False}
    with pytest.raises(NotFound):
        paper.settle_dispute(ballot.id, numbers[2], str(right.id), None, supervisor=staff["super"])
    assert factories.stored_count() == 1


def test_neither_entry_the_supervisor_enters_what_the_sheet_says(desk):
    _community, ballot, staff, numbers, _residents = desk
    a, b, c = ids(ballot)
    _dispute(desk, {"selections": [a]}, {"selections": [b]})
    # One who entered the sheet cannot decide it.
    supervisor_clerk = factories.user("both", roles=[(ballot.round.community, "supervisor")])
    with pytest.raises(Forbidden):
        paper.settle_dispute(
            ballot.id, numbers[2], "sheet", {"selections": [c]}, supervisor=staff["clerk1"]
        )
    with pytest.raises(DomainError):  # what the supervisor enters is checked like a vote
        paper.settle_dispute(
            ballot.id, numbers[2], "sheet", {"selections": []}, supervisor=supervisor_clerk
        )
    paper.settle_dispute(
        ballot.id, numbers[2], "sheet", {"selections": [a, c]}, supervisor=staff["super"]
    )
    assert tally(ballot.id).votes == {a: 1, b: 0, c: 1}
    assert {e.status for e in db.session.scalars(db.select(PaperBallotEntry))} == {"rejected"}


def test_the_close_voids_entries_still_waiting(desk):
    _community, ballot, staff, numbers, residents = desk
    a, b, _c = ids(ballot)
    paper.hand_over(ballot.id, residents[0].id, clerk=staff["clerk1"])
    paper.enter_sheet(ballot.id, numbers[3], {"selections": [a]}, clerk=staff["clerk1"])
    paper.enter_sheet(ballot.id, numbers[4], {"selections": [a]}, clerk=staff["clerk1"])
    paper.enter_sheet(ballot.id, numbers[4], {"selections": [b]}, clerk=staff["clerk2"])
    lifecycle.change_status(ballot.id, "close", actor=staff["organizer"])
    entries = list(db.session.scalars(db.select(PaperBallotEntry)))
    assert {(e.status, str(e.contents)) for e in entries} == {("void", "{}")}
    with pytest.raises(Conflict):
        paper.enter_sheet(ballot.id, numbers[3], {"selections": [a]}, clerk=staff["clerk2"])
    assert paper.disputes(ballot.id) == []


# --------------------------------------------------------------------------- pages


def _client(app, username):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    factories.login(client, username)
    return client


def test_the_desk_finds_a_resident_by_registry_number_name_or_address(desk, app):
    community, ballot, _staff, _numbers, residents = desk
    client = _client(app, "clerk1")
    url = f"/console/c/{community.slug}/ballots/{ballot.id}/paper/hand-over"
    target = residents[3]
    address = target.household.address
    for query in (target.external_ref, target.name, address):
        page = client.get(url, query_string={"q": query}).get_data(as_text=True)
        assert target.name in page and f'value="{target.id}"' in page, query
    csrf = factories.csrf_token(page)
    response = client.post(
        url, data={"csrf_token": csrf, "resident_id": str(target.id), "q": address}
    )
    assert response.status_code == 303
    assert db.session.scalar(db.select(Participation.channel)) == "paper"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert address in page
    bad = client.post(url, data={"csrf_token": csrf, "resident_id": "x"})
    assert bad.status_code == 303 and count(Participation) == 1
    assert _client(app, "super").get(url).status_code == 403


def test_printing_sheets_is_post_redirect_get_and_issues_a_batch_once(desk, app):
    community, ballot, _staff, _numbers, _residents = desk
    client = _client(app, "org1")
    url = f"/console/c/{community.slug}/ballots/{ballot.id}/paper/sheets"
    form = client.get(url).get_data(as_text=True)
    key = re.search(r'name="request_key"[^>]*value="([^"]+)"', form).group(1)
    data = {"csrf_token": factories.csrf_token(form), "request_key": key, "count": "4"}
    first = client.post(url, data=data)
    assert first.status_code == 303
    second = client.post(url, data=data)  # resent form: the same batch
    assert second.headers["Location"] == first.headers["Location"]
    assert count(PaperSheet) == 14
    sheet_page = client.get(first.headers["Location"])
    assert sheet_page.headers["Cache-Control"] == "no-store"
    text = sheet_page.get_data(as_text=True)
    printed = re.findall(r'class="sheet-number">([A-Z2-9]{4}-[A-Z2-9]{4})<', text)
    assert len(set(printed)) == 4 and text.count('<svg class="qr"') == 4
    reloaded = client.get(first.headers["Location"]).get_data(as_text=True)
    assert re.findall(r'class="sheet-number">([A-Z2-9]{4}-[A-Z2-9]{4})<', reloaded) == printed
    refused = client.post(url, data={**data, "count": "9999", "request_key": "other"})
    assert refused.status_code == 422 and count(PaperSheet) == 14


def test_the_supervisor_settles_a_dispute_with_radio_buttons(desk, app):
    community, ballot, staff, numbers, _residents = desk
    a, b, _c = ids(ballot)
    found = _dispute(desk, {"selections": [a]}, {"selections": [b]})
    show = f"/console/c/{community.slug}/ballots/{ballot.id}"
    client = _client(app, "super")
    assert found.label in client.get(show).get_data(as_text=True)
    url = f"{show}/paper/disputes/{numbers[2]}"
    page = client.get(url).get_data(as_text=True)
    radios = re.findall(r'<input type="radio" name="choice" value="([^"]+)"', page)
    assert radios == [str(e.id) for e in found.entries] + ["sheet"]
    csrf = factories.csrf_token(page)
    assert client.post(url, data={"csrf_token": csrf}).status_code == 422
    clerk = _client(app, "clerk1")
    own = factories.csrf_token(clerk.get(f"{show}/paper").get_data(as_text=True))
    assert clerk.post(url, data={"csrf_token": own, "choice": "sheet"}).status_code == 403
    response = client.post(url, data={"csrf_token": csrf, "choice": str(found.entries[0].id)})
    assert response.status_code == 303
    assert tally(ballot.id).votes[a] == 1
    assert client.get(url).status_code == 404


def test_clerks_enter_a_sheet_twice_through_the_page(desk, app):
    community, ballot, staff, numbers, residents = desk
    paper.hand_over(ballot.id, residents[0].id, clerk=staff["clerk1"])
    url = f"/console/c/{community.slug}/ballots/{ballot.id}/paper"
    for name in ("clerk1", "clerk2"):
        client = _client(app, name)
        csrf = factories.csrf_token(client.get(url).get_data(as_text=True))
        data = {"csrf_token": csrf, "sheet": paper_sheets.format_sheet_number(numbers[5])}
        response = client.post(url, data={**data, "selection": [str(ids(ballot)[0])]})
        assert response.status_code == 303
    assert factories.stored_count() == 1
    unknown = client.post(url, data={**data, "sheet": "2222-2222", "selection": ["1"]})
    assert unknown.status_code == 422
    assert "No sheet with this number" in unknown.get_data(
        as_text=True
    ) or "没有" in unknown.get_data(as_text=True)


def _at_once(app, jobs) -> tuple[list, list]:
    """Run ``jobs`` (callables) in threads released together; their results and errors."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def run(job):
        with app.app_context():
            try:
                barrier.wait()
                results.append(job())
            except DomainError as error:
                errors.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_clerks_and_desks_at_the_same_moment_count_a_sheet_once(desk, app):
    community, ballot, staff, numbers, residents = desk
    a = ids(ballot)[0]
    clerks = [staff["clerk1"], staff["clerk2"], staff["organizer"]]
    clerks.append(factories.user("clerk3", roles=[(community, "clerk")]))
    same_household = [residents[0].id, residents[1].id]
    handed, refused = _at_once(
        app,
        [
            lambda rid=rid: paper.hand_over(ballot.id, rid, clerk=staff["clerk1"]).key
            for rid in same_household
        ],
    )
    assert len(handed) == 1
    assert refused in (["already_handed_over"], ["already_voted"])  # SQLite, PostgreSQL
    clerk_ids = [c.id for c in clerks]

    def entry(clerk_id):
        from civicvote.accounts.models import User

        clerk = db.session.get(User, clerk_id)
        return paper.enter_sheet(ballot.id, numbers[6], {"selections": [a]}, clerk=clerk).status

    statuses, errors = _at_once(app, [lambda c=c: entry(c) for c in clerk_ids])
    # Two entries are taken and two refused. The first clerk's entry is read after its commit,
    # so it may already show the second clerk's match: the stored rows say what was counted.
    assert len(statuses) == 2 and "matched" in statuses and errors == ["counted", "counted"]
    sheet_number = paper_sheets.normalize_sheet_number(numbers[6])
    stored = db.session.scalars(db.select(PaperBallotEntry).filter_by(sheet_number=sheet_number))
    assert sorted(e.status for e in stored) == ["matched", "matched"]
    assert factories.stored_count() == 1 and count(Participation) == 1
