"""The rules residents are shown are the rules that decide (issue 15; docs/rules.md).

Each test states one rule as residents read it and proves the deciding code applies it. The
``app`` fixture runs each on SQLite and on PostgreSQL.
"""

from datetime import datetime, timedelta

import pytest
from flask import current_app
from flask_babel import force_locale

from civicvote.audit.describe import describe
from civicvote.audit.models import AuditEvent
from civicvote.ballots import setup
from civicvote.ballots.lifecycle import change_status, decide_quorum
from civicvote.errors import Conflict, DomainError, InvalidTransition
from civicvote.extensions import db
from civicvote.results import services
from civicvote.rounds import services as rounds
from civicvote.voting.casting import cast_vote
from tests import factories


def _ballot(votes, *, costs=(1_000_000, 2_000_000, 3_000_000), budget=10_000_000, **fields):
    """An open ballot with ``votes`` cast (each a list of proposal indexes), in its own round."""
    funding_round = factories.funding_round(factories.community(), budget_fen=budget)
    funding_round.fund_sources[0].amount_fen = budget
    funding_round.tie_break = "lexico"
    ballot = factories.ballot(funding_round, costs=list(costs), **fields)
    ids = [item.proposal_id for item in ballot.items]
    for n, choice in enumerate(votes):
        _credential, token, _short = factories.credential(ballot, f"h{9000 + n}")
        if ballot.method == "cumulative":
            payload = {"points": {str(ids[i]): points for i, points in choice}}
        else:
            payload = {"selections": [ids[i] for i in choice]}
        cast_vote(ballot.id, token, payload)
    return funding_round, ballot, ids


def _public_log(community_id: int, locale: str = "en") -> str:
    """The community's public log as its sentences read, in ``locale``."""
    events = list(
        db.session.scalars(db.select(AuditEvent).filter_by(community_id=community_id, public=True))
    )
    with current_app.test_request_context(), force_locale(locale):
        return " ".join(str(entry.sentence) for entry in describe(events))


# --------------------------------------------------------------------------- quorum


def test_a_ballot_below_quorum_funds_nothing_and_its_figures_are_frozen(app):
    # "法定人数：至少 5 人参与" — 2 took part.
    funding_round, ballot, _ids = _ballot([[0], [1]], quorum_kind="minimum", quorum_value=5)
    change_status(ballot.id, "close", actor=None)
    assert ballot.quorum_outcome["present"] == 2 and ballot.quorum_outcome["required"] == 5
    assert ballot.quorum_outcome["met"] is False and ballot.quorum_missed
    with pytest.raises(Conflict) as refused:
        services.run_allocation(funding_round, ballot, actor=None)
    assert refused.value.code == "quorum_not_met"
    assert services.latest_run(funding_round.id) is None


def test_quorum_counts_households_that_voted_online_not_only_check_ins(app):
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household")
    households = factories.registry(community, buildings=1, rooms=4, per_room=1)
    ballot = factories.ballot(funding_round, quorum_kind="households_percent", quorum_value=50)
    for household in households[:2]:
        _c, token, _s = factories.credential(ballot, f"h{household.id}")
        cast_vote(ballot.id, token, {"selections": [ballot.items[0].proposal_id]})
    change_status(ballot.id, "close", actor=None)
    # 4 households, 50% → 2 needed; 2 voted online and none checked in: reached.
    assert (ballot.quorum_outcome["required"], ballot.quorum_outcome["present"]) == (2, 2)
    assert ballot.quorum_outcome["met"] is True
    assert services.run_allocation(funding_round, ballot, actor=None).projects


def test_below_quorum_the_organizer_may_only_void_reopen_or_adjourn(app):
    funding_round, ballot, _ids = _ballot([[0]], quorum_kind="minimum", quorum_value=3)
    organizer = factories.user()
    change_status(ballot.id, "close", actor=organizer)
    with pytest.raises(DomainError):
        decide_quorum(ballot.id, "reopen", "  ", actor=organizer)  # a reason is required
    with pytest.raises(InvalidTransition):
        decide_quorum(ballot.id, "publish", "照常公布", actor=organizer)  # not an allowed outcome
    decide_quorum(ballot.id, "void", "参与人数不足，本次投票无效", actor=organizer)
    assert ballot.void and ballot.status == "closed"
    with pytest.raises(Conflict) as refused:
        services.run_allocation(funding_round, ballot, actor=organizer)
    assert refused.value.code == "void"
    with pytest.raises(InvalidTransition):
        decide_quorum(ballot.id, "reopen", "改主意", actor=organizer)  # void is final
    log = _public_log(funding_round.community_id)
    assert "参与人数不足，本次投票无效" in log and "1 took part, 3 needed" in log


def test_reopened_or_adjourned_ballots_keep_their_votes_and_are_judged_again(app):
    funding_round, ballot, ids = _ballot([[0]], quorum_kind="minimum", quorum_value=2)
    change_status(ballot.id, "close", actor=None)
    decide_quorum(ballot.id, "adjourn", "改到下周议事会", actor=None)
    assert ballot.status == "paused" and ballot.quorum_outcome is None
    change_status(ballot.id, "open", actor=None)
    _c, token, _s = factories.credential(ballot, "h8000")
    cast_vote(ballot.id, token, {"selections": [ids[0]]})
    change_status(ballot.id, "close", actor=None)
    assert ballot.quorum_outcome["present"] == 2 and ballot.quorum_outcome["met"]
    run = services.run_allocation(funding_round, ballot, actor=None)
    assert [p.votes for p in run.projects if p.proposal_id == ids[0]] == [2]
    assert [d["decision"] for d in ballot.quorum_decisions] == ["adjourn"]


def test_a_ballot_that_reached_its_quorum_takes_no_quorum_decision(app):
    _round, ballot, _ids = _ballot([[0]])
    change_status(ballot.id, "close", actor=None)
    with pytest.raises(InvalidTransition):
        decide_quorum(ballot.id, "reopen", "再投一次", actor=None)


# --------------------------------------------------------------------------- pass threshold


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "mes"])
def test_no_rule_funds_a_proposal_below_the_pass_threshold(app, rule):
    # "超过所投票数的 50%": of 6 ballots, 4 are needed; proposal 1 has 2 (the case).
    votes = [[0, 1], [0, 1], [0], [0], [0, 2], [2]]
    funding_round, ballot, ids = _ballot(votes, pass_threshold_percent=50)
    funding_round.allocation_rule = rule
    change_status(ballot.id, "close", actor=None)
    run = services.run_allocation(funding_round, ballot, actor=None)
    by_id = {p.proposal_id: p for p in run.projects}
    assert by_id[ids[0]].funded  # 5 of 6
    for below in (ids[1], ids[2]):  # 2 of 6: money is left, still never funded
        assert not by_id[below].funded and by_id[below].reason["code"] == "below_threshold"
    assert run.options["votes_required"] == 4


def test_exactly_the_threshold_is_not_more_than_it(app):
    funding_round, ballot, ids = _ballot([[0, 1], [0], [1], [0]], pass_threshold_percent=50)
    change_status(ballot.id, "close", actor=None)
    by_id = {
        p.proposal_id: p
        for p in services.run_allocation(funding_round, ballot, actor=None).projects
    }
    assert by_id[ids[0]].funded  # 3 of 4 > 50%
    assert not by_id[ids[1]].funded  # 2 of 4 = 50%, not more


def test_points_ballots_pass_by_supporters_not_by_points(app):
    # 10 points each; proposal 1 gets 20 points from 2 of 5 ballots: more points than needed
    # ballots, but only 40% of the ballots support it.
    votes = [[(0, 10)], [(0, 10)], [(0, 10)], [(1, 10)], [(1, 10)]]
    funding_round, ballot, ids = _ballot(
        votes, method="cumulative", points_total=10, pass_threshold_percent=50
    )
    change_status(ballot.id, "close", actor=None)
    by_id = {
        p.proposal_id: p
        for p in services.run_allocation(funding_round, ballot, actor=None).projects
    }
    assert by_id[ids[0]].funded and not by_id[ids[1]].funded


# --------------------------------------------------------------------------- the lock


def test_the_round_s_counting_rules_lock_when_a_ballot_opens_even_before_its_phase(app):
    funding_round = factories.funding_round(factories.community(), phase="review")
    factories.ballot(funding_round)  # opened
    counting = {"allocation_rule": "mes", "tie_break": "lot", "notice_days": 3}
    with pytest.raises(Conflict) as refused:
        rounds.update_counting(funding_round, vote_unit=funding_round.vote_unit, **counting)
    assert refused.value.code == "settled"
    unchanged = {
        "allocation_rule": funding_round.allocation_rule,
        "tie_break": funding_round.tie_break,
        "notice_days": funding_round.notice_days,
        "vote_unit": funding_round.vote_unit,
    }
    with pytest.raises(Conflict):  # MES's use of money left over is a rule option too
        rounds.update_counting(funding_round, mes_completion="none", **unchanged)
    assert funding_round.mes_completion == "add1"
    with pytest.raises(Conflict):
        rounds.update_rules(
            funding_round,
            budget_fen=funding_round.budget_fen + 100,
            per_project_cap_fen=None,
            categories=[(c.code, c.name) for c in funding_round.categories],
            required_documents=[],
        )


@pytest.mark.parametrize(
    "change",
    [
        {"quorum_kind": "residents_percent"},
        {"quorum_value": 10},
        {"pass_threshold_percent": 10},
        {"max_choices": 1},
        {"min_choices": 2},
        {"mode": "assembly"},
        {"online_closes_at": datetime(2030, 1, 1)},
    ],
)
def test_every_rule_of_an_opened_ballot_is_locked(app, change):
    organizer = factories.user()
    _round, ballot, _ids = _ballot([])
    values = {name: getattr(ballot, name) for name in setup.EDITABLE_FIELDS}
    ids = [item.proposal_id for item in ballot.items]
    with pytest.raises(Conflict) as refused:
        setup.update_ballot(ballot, {**values, **change}, ids, actor=organizer)
    assert refused.value.code == "locked"


# --------------------------------------------------------------------------- re-runs


def test_a_re_run_uses_the_published_rule_needs_a_reason_and_keeps_the_earlier_result(app):
    organizer = factories.user()
    funding_round, ballot, ids = _ballot([[0], [0], [1]], budget=1_000_000)
    change_status(ballot.id, "close", actor=organizer)
    first = services.run_allocation(funding_round, ballot, actor=organizer)
    with pytest.raises(DomainError) as refused:
        services.run_allocation(funding_round, ballot, actor=organizer)
    assert refused.value.code == "no_reason"
    with pytest.raises(TypeError):  # the console cannot pick another rule
        services.run_allocation(funding_round, ballot, actor=organizer, rule="mes")
    second = services.run_allocation(
        funding_round, ballot, actor=organizer, reason="纸质选票更正后重新计票"
    )
    assert second.rule == first.rule == funding_round.allocation_rule
    assert first.status == "superseded" and second.decision_note == "纸质选票更正后重新计票"
    earlier = services.earlier_results(funding_round, second)
    assert [e["run"].id for e in earlier] == [first.id]
    log = _public_log(funding_round.community_id)
    assert "纸质选票更正后重新计票" in log and ballot.items[0].proposal.title in log


def test_the_page_shows_quorum_figures_passed_and_funded_apart(client):
    funding_round, ballot, _ids = _ballot(
        [[0]], quorum_kind="minimum", quorum_value=3, pass_threshold_percent=0
    )
    change_status(ballot.id, "close", actor=None)
    url = f"/c/{funding_round.community.slug}/rounds/{funding_round.id}/results"
    page = client.get(url, headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "法定人数：需 3 人，实到 1 人，未达到" in page
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Quorum: 3 voters needed, 1 took part, not reached" in english


def test_notice_period_comes_from_the_round(app):
    funding_round, ballot, _ids = _ballot([[0]])
    funding_round.notice_days = 3
    change_status(ballot.id, "close", actor=None)
    run = services.run_allocation(funding_round, ballot, actor=None)
    assert run.notice_ends_at - run.created_at == timedelta(days=3)
