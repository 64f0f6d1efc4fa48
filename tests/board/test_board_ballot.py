"""The board shows the ballot of the assembly in progress, or the one the presenter chose, with
that assembly's attendance (issue 15)."""

from datetime import timedelta

import pytest

from civicvote.board import services as board
from civicvote.checkin.services import check_in
from civicvote.errors import DomainError
from civicvote.extensions import db
from civicvote.timeutil import utcnow
from tests import factories


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setattr(board, "CACHE_SECONDS", 0)
    board._cache.clear()


def _two_open_ballots():
    """The assembly's ballot, and a newer test ballot also open (the issue's board)."""
    community = factories.community()
    funding_round = factories.funding_round(community)
    assembly_ballot = factories.ballot(funding_round, title="议事会投票", mode="mixed")
    assembly = factories.assembly(assembly_ballot, starts_at=utcnow() - timedelta(minutes=30))
    test_ballot = factories.ballot(funding_round, title="测试投票")
    return community, assembly_ballot, assembly, test_ballot


def test_the_board_follows_the_assembly_in_progress_not_the_newest_ballot(app):
    community, assembly_ballot, assembly, test_ballot = _two_open_ballots()
    assert test_ballot.id > assembly_ballot.id
    data = board.snapshot(community)
    assert data["ballot"]["id"] == assembly_ballot.id
    assert data["assembly"] == {"id": assembly.id, "title": assembly.title, "present": 0}
    # An assembly that has not started yet is not in progress.
    factories.assembly(test_ballot, starts_at=utcnow() + timedelta(hours=2))
    assert board.snapshot(community)["ballot"]["id"] == assembly_ballot.id


def test_attendance_is_the_assembly_s(app):
    community, assembly_ballot, assembly, _test = _two_open_ballots()
    household = factories.registry(community, buildings=1, rooms=1, per_room=1)[0]
    _c, token, _s = factories.credential(assembly_ballot, f"h{household.id}")
    check_in(assembly, token)
    db.session.commit()
    data = board.snapshot(community)
    assert data["assembly"]["present"] == 1 and data["attendance"]["present"] == 1


def test_the_presenter_chooses_the_ballot_and_can_return_to_the_default(app):
    community, assembly_ballot, _assembly, test_ballot = _two_open_ballots()
    organizer = factories.user()
    board.set_ballot(community, test_ballot.id, actor=organizer)
    assert board.snapshot(community)["ballot"]["id"] == test_ballot.id
    other = factories.ballot(factories.funding_round(factories.community()))
    with pytest.raises(DomainError):
        board.set_ballot(community, other.id, actor=organizer)  # another community's
    db.session.rollback()
    board.set_ballot(community, None, actor=organizer)
    assert board.snapshot(community)["ballot"]["id"] == assembly_ballot.id


def test_passed_and_funded_are_separate_marks(client):
    community, assembly_ballot, _assembly, _test = _two_open_ballots()
    assembly_ballot.results_visible_live = True
    assembly_ballot.pass_threshold_percent = 50
    db.session.commit()
    page = client.get(f"/c/{community.slug}/board", headers={"Accept-Language": "zh"})
    text = page.get_data(as_text=True)
    assert "通过：超过所投票数的 50%" in text and "按公布的结果获资助" in text
    assert "已过通过线或已获资助" not in text
