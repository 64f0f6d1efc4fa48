"""Anyone can recount: the exported Pabulib file alone gives back the official funded set,
with our allocation module and with pabutools."""

import json
from datetime import timedelta

import pytest
from pabutools.election import Cost_Sat
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import (
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from civicvote.allocation.pabulib import parse_pb
from civicvote.ballots.lifecycle import change_status
from civicvote.extensions import db
from civicvote.results import services
from civicvote.rounds.models import FundSource
from civicvote.voting.casting import cast_vote
from tests import factories
from tests.allocation.pabu import checker_errors

VOTES = [[0, 2], [2], [2, 1], [1], [0, 1, 3], [3], [3, 0], [4]]
# Small amounts (yuan hundreds) keep pabutools' one-yuan-at-a-time add1 quick.
COSTS = [15_050, 20_000, 30_000, 8_000, 41_000]


def _final_run(rule: str, tie_break: str = "lexico", *, extra_sources=False, threshold=None):
    funding_round = factories.funding_round(factories.community(), budget_fen=60_000)
    if extra_sources:
        funding_round.fund_sources.append(
            FundSource(
                name="为老基金",
                kind="restricted",
                amount_fen=10_000,
                categories=["elderly"],
                per_project_cap_fen=9_000,
            )
        )
        db.session.commit()
    ballot = factories.ballot(funding_round, costs=COSTS)
    ids = [item.proposal_id for item in ballot.items]
    for n, choice in enumerate(VOTES):
        _c, token, _s = factories.credential(ballot, f"h{5000 + n}")
        cast_vote(ballot.id, token, {"selections": [ids[i] for i in choice]})
    change_status(ballot.id, "close", actor=None)
    run = services.run_allocation(
        funding_round,
        ballot,
        actor=None,
        rule=rule,
        tie_break=tie_break,
        threshold_percent=threshold,
    )
    services.finalize(run, actor=None, now=run.notice_ends_at + timedelta(seconds=1))
    return run, {str(p.proposal_id) for p in run.projects if p.funded}


def _pabutools(text: str, rule: str) -> set[str]:
    """The funded set pabutools computes from the exported text (its own tie-break: lexico)."""
    instance, profile = parse_pabulib_from_string(text)
    if rule == "mes":
        chosen = exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            {"sat_class": Cost_Sat},
            exhaustive_stop=False,
            budget_step=profile.num_ballots(),
        )
    else:
        # Greedy by votes is greedy welfare with cost satisfaction (density = votes).
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    return {p.name for p in chosen}


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_recount_from_the_file_alone_matches_with_both_tools(app, rule):
    run, official = _final_run(rule)
    text = services.export_pabulib(run)
    assert services.recount(text).funded and set(services.recount(text).funded) == official
    assert _pabutools(text, rule) == official


def test_recount_with_restricted_sources_uses_the_file_s_sources(app):
    from civicvote.rounds.models import FundingRound

    run, official = _final_run("greedy", extra_sources=True)
    foundation = str(db.session.get(FundingRound, run.round_id).fund_sources[-1].id)
    assert any(foundation in p.funding_by_source for p in run.projects if p.funded)
    text = services.export_pabulib(run)
    assert parse_pb(text).meta["budget"] == "700"  # ¥600 general + ¥100 foundation
    assert set(services.recount(text).funded) == official


def test_recount_with_a_threshold(app):
    run, official = _final_run("greedy-threshold", threshold=30)
    text = services.export_pabulib(run)
    election = parse_pb(text)
    assert election.meta["min_project_score_threshold"] == "3"  # 30% of 8 ballots, rounded up
    assert set(services.recount(text).funded) == official


def test_the_file_is_anonymous_and_shuffled(app):
    run, _official = _final_run("greedy")
    election = parse_pb(services.export_pabulib(run))
    assert election.vote_columns == ("voter_id", "vote")
    assert [v.columns["voter_id"] for v in election.votes] == [str(n) for n in range(1, 9)]
    assert sorted(tuple(sorted(v.vote)) for v in election.votes) == sorted(
        tuple(sorted(str(pid) for pid in _ids(run, choice))) for choice in VOTES
    )
    costs = {p.id: p.columns["cost"] for p in election.projects}
    assert "150.50" in costs.values()  # yuan with fen kept exact


def _ids(run, choice):
    ordered = sorted(p.proposal_id for p in run.projects)
    return [ordered[i] for i in choice]


def test_download_only_once_final(client):
    funding_round = factories.funding_round(factories.community())
    ballot = factories.ballot(funding_round)
    _c, token, _s = factories.credential(ballot, "h1")
    cast_vote(ballot.id, token, {"selections": [ballot.items[0].proposal_id]})
    change_status(ballot.id, "close", actor=None)
    run = services.run_allocation(funding_round, ballot, actor=None)
    url = f"/c/{funding_round.community.slug}/rounds/{funding_round.id}/ballots.pb"
    assert client.get(url).status_code == 404
    services.finalize(run, actor=None, now=run.notice_ends_at + timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("META\n")


def _closed_round(mix: str):
    """A closed ballot with ties (four projects with 3 votes each) and the given sources."""
    funding_round = factories.funding_round(factories.community(), budget_fen=60_000)
    if mix == "restricted":
        funding_round.fund_sources.append(
            FundSource(
                name="为老基金",
                kind="restricted",
                amount_fen=10_000,
                categories=["elderly"],
                per_project_cap_fen=9_000,
            )
        )
    elif mix == "matching":
        funding_round.fund_sources.append(
            FundSource(name="配捐", kind="matching", amount_fen=15_000, match_ratio_percent=50)
        )
    elif mix == "two general":
        funding_round.fund_sources.append(FundSource(name="街道", kind="general", amount_fen=7_000))
    db.session.commit()
    ballot = factories.ballot(funding_round, costs=COSTS)
    ids = [item.proposal_id for item in ballot.items]
    for n, choice in enumerate(VOTES):
        _c, token, _s = factories.credential(ballot, f"h{6000 + n}")
        cast_vote(ballot.id, token, {"selections": [ids[i] for i in choice]})
    change_status(ballot.id, "close", actor=None)
    return funding_round, ballot


SETTINGS = [
    ("greedy", None, None),
    ("greedy", None, 30),
    ("greedy-no-skip", None, None),
    ("greedy-threshold", None, 40),
    ("mes", "none", None),
    ("mes", "add1", None),
    ("mes", "add1+greedy", None),
    ("mes", "add1+greedy+compare", None),
    ("mes", "add1", 30),
]


@pytest.mark.parametrize("mix", ["general", "two general", "restricted", "matching"])
def test_recount_equals_published_for_every_rule_and_tie_break(app, tmp_path, mix):
    from click.testing import CliRunner

    from civicvote.allocation.command import allocate_command

    funding_round, ballot = _closed_round(mix)
    for rule, completion, threshold in SETTINGS:
        for tie_break in ("lexico", "cost", "lot"):
            case = (mix, rule, completion, threshold, tie_break)
            run = services.run_allocation(
                funding_round,
                ballot,
                actor=None,
                rule=rule,
                completion=completion,
                threshold_percent=threshold,
                tie_break=tie_break,
            )
            text = services.export_pabulib(run)
            published = {str(p.proposal_id): p.funding_by_source for p in run.projects if p.funded}
            recounted = services.recount(text)
            assert set(recounted.funded) == set(published), case
            paid = {
                pid: {s: int(amount * 100) for s, amount in by_source.items()}
                for pid, by_source in recounted.funding.items()
            }
            assert paid == published, case
            assert checker_errors(text) == {}, case
            path = tmp_path / "round.pb"
            path.write_text(text, encoding="utf-8")
            cli = CliRunner().invoke(allocate_command, [str(path), "--json"])
            assert cli.exit_code == 0, cli.output
            assert set(json.loads(cli.output)["selected"]) == set(published), case
