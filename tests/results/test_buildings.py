"""Per-building fairness from ballots that carry a building only in groups large enough
(issue 19; allocation/buildings.py, docs/secrecy.md)."""

import json
from fractions import Fraction

import pytest

from civicvote.allocation.buildings import OTHER, coarsen, groups_are_safe
from civicvote.ballots.lifecycle import change_status
from civicvote.ballots.models import CastBallot
from civicvote.errors import DomainError
from civicvote.extensions import db
from civicvote.results import services
from civicvote.results.explanations import explanation
from civicvote.results.export import export_pabulib
from civicvote.rounds.services import update_counting
from civicvote.voting.casting import cast_vote
from tests import factories
from tests.allocation import pabu


def test_coarsen_hand_worked():
    votes = ["A"] * 12 + ["B"] * 10 + ["C"] * 3 + ["D"] * 8 + [None] * 2
    groups = coarsen(votes, 10)
    # C (3) and D (8) are under 10: merged, 11 ballots. Paper (None) stays out of every group.
    assert groups[:22] == ["A"] * 12 + ["B"] * 10
    assert groups[22:33] == [OTHER] * 11
    assert groups[33:] == [None, None]
    assert groups_are_safe(groups, 10)


def test_coarsen_drops_every_group_when_the_merged_one_is_too_small():
    assert coarsen(["A"] * 30 + ["B"] * 4 + ["C"] * 5, 10) == [None] * 39
    # Nothing to merge: the large groups stand.
    assert coarsen(["A"] * 20 + ["B"] * 20, 20) == ["A"] * 20 + ["B"] * 20
    # The minimum is never below 10, whatever is stored.
    assert coarsen(["A"] * 9 + ["B"] * 12, 1) == [None] * 21


def test_the_minimum_is_a_counting_rule_from_10_to_1000(app):
    funding_round = factories.funding_round(factories.community())
    assert funding_round.building_min_ballots == 20
    for wrong in (9, 1001):
        with pytest.raises(DomainError):
            update_counting(
                funding_round,
                allocation_rule="greedy",
                tie_break="lexico",
                notice_days=7,
                vote_unit=funding_round.vote_unit,
                building_min_ballots=wrong,
            )
    update_counting(
        funding_round,
        allocation_rule="greedy",
        tie_break="lexico",
        notice_days=7,
        vote_unit=funding_round.vote_unit,
        building_min_ballots=10,
    )
    assert funding_round.building_min_ballots == 10


def _round_with_buildings(plan, *, minimum=10):
    """A closed approval ballot (costs 1M, 2M, 3M; budget 4M, greedy by votes, ties by
    proposal number); ``plan`` lists (building, choices by proposal index, voters)."""
    community = factories.community()
    funding_round = factories.funding_round(community, budget_fen=4_000_000)
    funding_round.building_min_ballots = minimum
    funding_round.allocation_rule, funding_round.tie_break = "greedy", "lexico"
    db.session.commit()
    ballot = factories.ballot(funding_round, costs=[1_000_000, 2_000_000, 3_000_000])
    ids = [item.proposal_id for item in ballot.items]
    room = 100
    for building, choice, voters in plan:
        for _ in range(voters):
            room += 1
            home = factories.household(community, building=building, room=str(room))
            # Half the voters vote per household, half per resident: both keys find the building.
            key = f"h{home.id}" if room % 2 else f"r{factories.resident(home).id}"
            _credential, token, _short = factories.credential(ballot, key)
            cast_vote(ballot.id, token, {"selections": [ids[i] for i in choice]})
    change_status(ballot.id, "close", actor=None)
    run = services.run_allocation(funding_round, ballot, actor=None)
    return funding_round, ballot, run


def _stored(ballot) -> dict:
    rows = db.session.scalars(db.select(CastBallot.neighbourhood).filter_by(ballot_id=ballot.id))
    counts: dict = {}
    for group in rows:
        counts[group] = counts.get(group, 0) + 1
    return counts


def test_per_building_shares_hand_worked(app, client):
    # Votes: p2 = 12 (1栋), p1 = 10 (2栋, 5 of them also p0), p0 = 5 + 10 (3栋 and 4栋).
    # Greedy by votes, budget 4M: p0 (15 votes, 1M), p2 (12, 3M) funded; p1 (2M) does not fit.
    plan = [
        ("1栋", [2], 12),
        ("2栋", [1], 5),
        ("2栋", [0, 1], 5),
        ("3栋", [0], 4),  # 3栋 and 4栋 have under 10 ballots: counted together, 10
        ("4栋", [0], 6),
    ]
    funding_round, ballot, run = _round_with_buildings(plan)
    assert _stored(ballot) == {"1栋": 12, "2栋": 10, OTHER: 10}
    text = export_pabulib(run)
    assert "voter_id;vote;neighborhood" in text
    assert "3栋" not in text and "4栋" not in text
    assert pabu.checker_errors(text) == {}
    by_group = explanation(run)["published"]["fairness"]["by_group"]
    assert by_group == {"1栋": Fraction(1), "2栋": Fraction(1, 2), OTHER: Fraction(1)}
    slug = funding_round.community.slug
    page = client.get(f"/c/{slug}/rounds/{funding_round.id}/results").get_data(as_text=True)
    assert "其他楼栋" in page and "50.0%" in page
    assert "3栋" not in page and "4栋" not in page
    api = client.get(f"/api/v1/rounds/{funding_round.id}/allocation").get_json()
    assert set(api["explanation"]["published"]["fairness"]["by_group"]) == {"1栋", "2栋", OTHER}
    text = json.dumps(api, ensure_ascii=False)
    assert "3栋" not in text and "4栋" not in text


def test_a_small_building_is_not_identifiable_anywhere(app, client):
    """Adversary: 3栋 has 4 ballots and no other building is small, so merging cannot hide it:
    no ballot keeps a building, and nothing published tells 3栋's votes apart."""
    plan = [("1栋", [2], 12), ("3栋", [1], 4)]
    funding_round, ballot, run = _round_with_buildings(plan)
    assert _stored(ballot) == {None: 16}
    text = export_pabulib(run)
    assert "neighborhood" not in text and "3栋" not in text and "1栋" not in text
    assert explanation(run)["published"]["fairness"]["by_group"] == {}
    slug = funding_round.community.slug
    pages = [
        client.get(f"/c/{slug}/rounds/{funding_round.id}/results").get_data(as_text=True),
        json.dumps(
            client.get(f"/api/v1/rounds/{funding_round.id}/allocation").get_json(),
            ensure_ascii=False,
        ),
        client.get(f"/c/{slug}/rounds/{funding_round.id}/ballots.pb").get_data(as_text=True),
    ]
    for body in pages:
        assert "3栋" not in body


def test_the_organizer_sets_the_minimum_in_the_round_settings(client):
    from civicvote.accounts.models import ORGANIZER

    community = factories.community()
    funding_round = factories.funding_round(community)
    factories.user("organizer", roles=[(community, ORGANIZER)])
    factories.login(client, "organizer")
    settings = f"/console/c/{community.slug}/rounds/{funding_round.id}"
    page = client.get(settings).get_data(as_text=True)
    assert 'name="building_min_ballots"' in page and 'value="20"' in page
    form = {
        "csrf_token": factories.csrf_token(page),
        "allocation_rule": "greedy",
        "tie_break": "cost",
        "notice_days": "7",
        "vote_unit": funding_round.vote_unit,
        "building_min_ballots": "5",
    }
    refused = client.post(f"{settings}/counting", data=form)
    assert refused.status_code == 422 and "10" in refused.get_data(as_text=True)
    saved = client.post(f"{settings}/counting", data={**form, "building_min_ballots": "40"})
    assert saved.status_code == 302
    db.session.refresh(funding_round)
    assert funding_round.building_min_ballots == 40
    # A form without the field (an older page) keeps the value.
    del form["building_min_ballots"]
    assert client.post(f"{settings}/counting", data=form).status_code == 302
    db.session.refresh(funding_round)
    assert funding_round.building_min_ballots == 40
