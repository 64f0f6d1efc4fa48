"""Allocation runs from closed ballots, the public notice, objections and the final lock."""

from datetime import timedelta

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.ballots.lifecycle import change_status
from civicvote.errors import Conflict, DomainError, Forbidden
from civicvote.extensions import db
from civicvote.results import objections, services
from civicvote.rounds.models import FundSource
from civicvote.timeutil import utcnow
from civicvote.voting.casting import cast_vote
from tests import factories


def _closed_ballot(votes, *, costs=(1_000_000, 2_000_000, 3_000_000), budget=4_000_000):
    """A closed approval ballot; ``votes`` lists each voter's choices by proposal index."""
    funding_round = factories.funding_round(factories.community(), budget_fen=budget)
    ballot = factories.ballot(funding_round, costs=list(costs))
    ids = [item.proposal_id for item in ballot.items]
    for n, choice in enumerate(votes):
        _credential, token, _short = factories.credential(ballot, f"h{9000 + n}")
        cast_vote(ballot.id, token, {"selections": [ids[i] for i in choice]})
    change_status(ballot.id, "close", actor=None)
    return funding_round, ballot, ids


def test_greedy_funds_by_votes_and_explains_each_project(app):
    funding_round, ballot, ids = _closed_ballot([[0, 2], [2], [2, 1], [1]])
    funding_round.tie_break = "lexico"
    run = services.run_allocation(funding_round, ballot, actor=None)
    by_id = {p.proposal_id: p for p in run.projects}
    # Votes: p2=3, p1=2, p0=1. Budget 4M: p2 (3M) funded, p1 (2M) does not fit, p0 (1M) fits.
    assert [by_id[i].votes for i in ids] == [1, 2, 3]
    assert by_id[ids[2]].funded and by_id[ids[0]].funded and not by_id[ids[1]].funded
    assert by_id[ids[1]].reason["code"] == "did_not_fit"
    assert by_id[ids[1]].reason["params"]["available"] == 1_000_000
    assert by_id[ids[2]].rank == 1 and by_id[ids[1]].rank == 2
    source = str(funding_round.fund_sources[0].id)
    assert by_id[ids[2]].funding_by_source == {source: 3_000_000}
    assert run.status == "provisional" and funding_round.phase == "notice"
    use = services.source_use(run, funding_round)
    assert use[0]["used_fen"] == 4_000_000 and use[0]["left_fen"] == 0


def test_the_lot_seed_is_drawn_and_published(app):
    funding_round, ballot, ids = _closed_ballot(
        [[0], [1]], costs=(1_000_000, 1_000_000), budget=1_000_000
    )
    run = services.run_allocation(funding_round, ballot, actor=None)
    assert run.seed and run.tie_break == f"cost:{run.seed}"
    assert sum(p.funded for p in run.projects) == 1
    context = [r["code"] for p in run.projects for r in p.reason["context"]]
    assert "tie_broken_by" in context


def test_threshold_and_restricted_sources(app):
    funding_round, ballot, ids = _closed_ballot([[0, 1], [0, 1], [0], [0, 2]], budget=10_000_000)
    # A foundation pays only for elderly care (all factory proposals are "elderly").
    funding_round.fund_sources.append(
        FundSource(name="基金会", kind="restricted", amount_fen=500_000, categories=["elderly"])
    )
    # The ballot's pass threshold: more than 40% of the 4 ballots cast, so at least 2.
    ballot.pass_threshold_percent = 40
    funding_round.tie_break = "lexico"
    db.session.commit()
    run = services.run_allocation(funding_round, ballot, actor=None)
    by_id = {p.proposal_id: p for p in run.projects}
    assert by_id[ids[0]].funded and by_id[ids[1]].funded  # 4/4 and 2/4 ballots
    assert not by_id[ids[2]].funded and by_id[ids[2]].reason["code"] == "below_threshold"


def test_open_ballot_cannot_be_allocated(app):
    ballot = factories.ballot()
    with pytest.raises(Conflict):
        services.run_allocation(ballot.round, ballot, actor=None)


def test_objections_during_notice_then_final_and_locked(app):
    funding_round, ballot, ids = _closed_ballot([[0], [0, 1]])
    organizer = factories.user()
    run = services.run_allocation(funding_round, ballot, actor=organizer)
    _c, token, short = factories.credential(ballot, "h777")
    with pytest.raises(Forbidden):
        services.file_objection(run, "计票有误", card="WRONGWRONG")
    with pytest.raises(DomainError):
        services.file_objection(run, "没有身份")
    with pytest.raises(DomainError):
        services.file_objection(run, "x" * 2001, contact="王")
    objection = services.file_objection(run, "2号项目应优先", card=short)
    assert objection.credential_id is not None
    with pytest.raises(Conflict):
        services.finalize(run, actor=organizer, now=run.notice_ends_at + timedelta(seconds=1))
    objections.answer_objection(objection, "按票数排序，规则已公示。", actor=organizer)
    with pytest.raises(Conflict):
        services.finalize(run, actor=organizer)  # the notice has not ended
    later = run.notice_ends_at + timedelta(seconds=1)
    with pytest.raises(Conflict):
        services.file_objection(run, "太晚了", contact="李", now=later)
    services.finalize(run, actor=organizer, now=later)
    assert run.status == "final" and funding_round.phase == "delivery"
    with pytest.raises(Conflict):
        services.run_allocation(funding_round, ballot, actor=organizer)
    with pytest.raises(Conflict):
        objections.answer_objection(objection, "改答复", actor=organizer)
    with pytest.raises(DomainError):
        services.supersede(run, "  ", actor=organizer)
    replacement = services.supersede(run, "区议事会2026-05决定重新计票", actor=organizer)
    assert replacement.status == "provisional" and run.status == "superseded"
    actions = [
        e.action
        for e in db.session.scalars(
            db.select(AuditEvent)
            .filter(
                AuditEvent.action.startswith("allocation")
                | AuditEvent.action.startswith("objection")
            )
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == [
        "allocation.run",
        "objection.answer",
        "allocation.finalize",
        "allocation.rerun",
    ]


def test_results_page_api_and_objection_form(client):
    funding_round, ballot, ids = _closed_ballot([[0], [0, 1], [2]])
    funding_round.tie_break = "lexico"
    services.run_allocation(funding_round, ballot, actor=None)
    slug = funding_round.community.slug
    url = f"/c/{slug}/rounds/{funding_round.id}/results"
    page = client.get(url).get_data(as_text=True)
    assert ballot.items[0].proposal.title in page
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Funded in vote order." in english
    api = client.get(f"/api/v1/rounds/{funding_round.id}/allocation").json
    assert api["status"] == "provisional"
    assert [p["proposal_id"] for p in api["projects"]][0] == ids[0]
    # p1 and p2 tie on one vote; lexico puts p1 first, and then p2 (3M) does not fit.
    assert {p["proposal_id"] for p in api["projects"] if p["funded"]} == {ids[0], ids[1]}
    token = factories.csrf_token(page)
    bad = client.post(url, data={"csrf_token": token, "text": "", "contact": "王"})
    assert bad.status_code == 422
    ok = client.post(url, data={"csrf_token": token, "text": "<b>请复核</b>", "contact": "王"})
    assert ok.status_code == 302
    shown = client.get(url).get_data(as_text=True)
    assert "&lt;b&gt;请复核&lt;/b&gt;" in shown and "王" not in shown.split("<main")[1]
    assert client.get(f"/api/v1/rounds/{funding_round.id + 99}/allocation").status_code == 404


def test_console_runs_answers_and_is_scoped(client):
    funding_round, ballot, ids = _closed_ballot([[0], [1]])
    place = funding_round.community
    other = factories.community()
    factories.user("chair", roles=[(place, "organizer")])
    factories.user("elsewhere", roles=[(other, "organizer")])
    url = f"/console/c/{place.slug}/rounds/{funding_round.id}/allocation"
    factories.login(client, "elsewhere")
    assert client.get(url).status_code == 403
    client.post(
        "/logout",
        data={"csrf_token": factories.csrf_token(client.get("/console").get_data(as_text=True))},
    )
    factories.login(client, "chair")
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    ran = client.post(
        url,
        data={
            "action": "run",
            "ballot": ballot.id,
            "run-csrf_token": token,
            "run-rule": "greedy",
            "run-tie_break": "lexico",
        },
    )
    assert ran.status_code == 302
    run = services.latest_run(funding_round.id)
    assert run is not None and run.rule == "greedy"
    early = client.post(url, data={"action": "finalize", "csrf_token": token})
    assert early.status_code == 409
    run.notice_ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    final = client.post(url, data={"action": "finalize", "csrf_token": token})
    assert final.status_code == 302
    assert services.latest_run(funding_round.id).status == "final"


def test_allocation_answer_matches_the_published_schema(client):
    from tests.api.test_openapi import check

    funding_round, ballot, _ids = _closed_ballot([[0], [0, 1], [2]])
    run = services.run_allocation(funding_round, ballot, actor=None)
    services.file_objection(run, "请复核", contact="王")
    spec = client.get("/api/openapi.json").json
    path = "/api/v1/rounds/{round_id}/allocation"
    check(spec, path, "get", client.get(f"/api/v1/rounds/{funding_round.id}/allocation"))
    check(spec, path, "get", client.get(f"/api/v1/rounds/{funding_round.id + 50}/allocation"))


def test_a_published_add1_count_is_proven_even_where_add1_would_search(app, monkeypatch):
    from civicvote.allocation import add1

    # No work at all for the walk: anything but a proven count would search past it.
    monkeypatch.setattr(add1, "EXACT_WORK", 0)
    funding_round, ballot, _ids = _closed_ballot([[0], [0, 1], [1, 2], [2]])
    funding_round.allocation_rule, funding_round.mes_completion = "mes", "add1"
    run = services.run_allocation(funding_round, ballot, actor=None)
    search = run.outcome["details"]["add1_search"]
    assert run.outcome["details"]["add1_increments"] > 0
    assert search["exact"] and "probes" not in search  # walked every increment
