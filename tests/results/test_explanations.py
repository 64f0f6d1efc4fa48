"""The results page, the report and the API explain the outcome: why, fairness, counterfactual."""

from fractions import Fraction

import pytest

from civicvote.allocation.command import allocate_command
from civicvote.results import services
from civicvote.results.explanations import explanation
from civicvote.results.export import export_pabulib
from tests.results.test_results import _closed_ballot


def _count(funding_round, ballot, *, rule, tie_break, completion="add1"):
    """Count under the round's published settings (set here before any vote would open)."""
    funding_round.allocation_rule, funding_round.tie_break = rule, tie_break
    funding_round.mes_completion = completion
    return services.run_allocation(funding_round, ballot, actor=None)


def _greedy_run():
    # Votes: p2=3, p1=2, p0=1. Budget 4M: p2 (3M) funded, p1 (2M) lacks 1M, p0 (1M) fits.
    funding_round, ballot, ids = _closed_ballot([[0, 2], [2], [2, 1], [1]])
    run = _count(funding_round, ballot, rule="greedy", tie_break="lexico")
    return funding_round, run, ids


def test_greedy_explanation_hand_worked(app):
    _round, run, ids = _greedy_run()
    ex = explanation(run)
    by_id = {p["id"]: p for p in ex["published"]["projects"]}
    assert by_id[str(ids[1])]["lacked_fen"] == 1_000_000  # 2M cost, 1M left at its turn
    assert by_id[str(ids[0])]["lacked_fen"] is None
    # The pass threshold (more than 0% of the ballots: one supporter) applies to every rule.
    assert by_id[str(ids[1])]["passed_threshold"] is True
    fair = ex["published"]["fairness"]
    # Voters {0,2} {2} {2,1} {1}: three have a funded project; 2+1+1+0 funded approvals.
    assert fair["share_with_one"] == Fraction(3, 4)
    assert fair["average_funded"] == Fraction(4, 4)
    assert ex["counterfactual"]["rule"].startswith("mes")


def test_the_figures_equal_a_recount_from_the_export(app, tmp_path):
    _round, run, _ids = _greedy_run()
    run.status = "final"
    path = tmp_path / "round.pb"
    path.write_text(export_pabulib(run), encoding="utf-8")
    from click.testing import CliRunner

    out = CliRunner().invoke(allocate_command, [str(path), "--explain", "--json"])
    assert out.exit_code == 0, out.output
    import json

    printed = json.loads(out.output)
    ex = explanation(run)
    assert printed["explanation"]["fairness"]["share_with_one"] == "3/4"
    assert set(printed["selected"]) == set(ex["published"]["funded"])
    assert set(printed["counterfactual"]["projects"][0]) >= {"funded", "effective_support"}
    assert {p["id"] for p in printed["counterfactual"]["projects"] if p["funded"]} == set(
        ex["counterfactual"]["funded"]
    )


def test_mes_explains_effective_support_and_who_used_the_money(app):
    # Two voters for the cheap p0, one for the dear p1; each voter's share is 1M of 3M.
    funding_round, ballot, ids = _closed_ballot(
        [[0], [0], [1]], costs=(2_000_000, 2_000_000), budget=3_000_000
    )
    run = _count(funding_round, ballot, rule="mes", tie_break="lexico", completion="none")
    by_id = {p["id"]: p for p in explanation(run)["published"]["projects"]}
    assert by_id[str(ids[0])]["funded"] and not by_id[str(ids[1])]["funded"]
    # p1's one supporter has 1M of the 2M it costs: 50% of the support it needs.
    assert by_id[str(ids[1])]["effective_support"] == Fraction(1, 2)


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_the_results_page_shows_the_explanations(client, lang):
    funding_round, run, _ids = _greedy_run()
    slug = funding_round.community.slug
    page = client.get(
        f"/c/{slug}/rounds/{funding_round.id}/results", headers={"Accept-Language": lang}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="bar-line"') >= 3 and '<span id="chart-vm-t" hidden>' in html
    if lang == "en":
        assert "When its turn came, it lacked ¥10,000.00." in html
        assert "Voters with at least one funded project they voted for" in html
        assert "75.0%" in html
        assert "What Method of Equal Shares" in html or "would have funded" in html
    else:
        assert "75.0%" in html and "When its turn came" not in html


def test_the_api_adds_an_explanation_and_keeps_its_fields(client):
    funding_round, run, ids = _greedy_run()
    body = client.get(f"/api/v1/rounds/{funding_round.id}/allocation").get_json()
    assert {"projects", "fund_sources", "rule", "status"} <= set(body)
    ex = body["explanation"]
    assert ex["published"]["fairness"]["share_with_one"] == 0.75
    lacked = {p["proposal_id"]: p["lacked_fen"] for p in ex["published"]["projects"]}
    assert lacked[ids[1]] == 1_000_000
    assert ex["counterfactual"]["rule"].startswith("mes")


def test_the_api_explanation_matches_the_openapi_schema(client):
    from tests.api.test_openapi import check

    spec = client.get("/api/openapi.json").get_json()
    path = "/api/v1/rounds/{round_id}/allocation"
    funding_round, _run, _ids = _greedy_run()  # greedy: MES is the counterfactual
    check(spec, path, "GET", client.get(f"/api/v1/rounds/{funding_round.id}/allocation"))
    funding_round, ballot, _ids = _closed_ballot(
        [[0], [0], [1]], costs=(2_000_000, 2_000_000), budget=3_000_000
    )
    _count(funding_round, ballot, rule="mes", tie_break="lexico")
    response = client.get(f"/api/v1/rounds/{funding_round.id}/allocation")
    assert response.get_json()["explanation"]["published"]["projects"][1]["effective_support"]
    check(spec, path, "GET", response)


def test_the_report_explains_the_result(client):
    funding_round, _run, _ids = _greedy_run()
    slug = funding_round.community.slug
    page = client.get(
        f"/c/{slug}/rounds/{funding_round.id}/report", headers={"Accept-Language": "en"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Why this result" in html and "When its turn came, it lacked ¥10,000.00." in html
    assert 'id="chart-cf-t"' in html and "75.0%" in html


def test_the_board_explains_the_result_after_the_close(client):
    funding_round, _run, _ids = _greedy_run()
    slug = funding_round.community.slug
    en = {"Accept-Language": "en"}
    html = client.get(f"/c/{slug}/board", headers=en).get_data(as_text=True)
    assert "Why this result" in html and "board-cf-t" in html and "75.0%" in html
    live = client.get(f"/c/{slug}/board/live", headers=en).get_json()
    assert "Why this result" in live["html"]


def test_the_board_shows_no_explanation_while_a_vote_is_open(client):
    from tests import factories

    ballot = factories.ballot()
    html = client.get(f"/c/{ballot.round.community.slug}/board").get_data(as_text=True)
    assert 'data-name="explain"' not in html


def test_a_project_below_the_threshold_is_told_so_once_in_one_wording(client):
    # Five ballots, more than 50% needed: p1 (3 votes) passes, p0 (1) and p2 (2) do not.
    funding_round, ballot, _ids = _closed_ballot([[1], [1], [1, 0], [2], [2]])
    ballot.pass_threshold_percent = 50
    _count(funding_round, ballot, rule="greedy", tie_break="lexico")
    slug, en = funding_round.community.slug, {"Accept-Language": "en"}
    base = f"/c/{slug}/rounds/{funding_round.id}"
    results = client.get(f"{base}/results", headers=en).get_data(as_text=True)
    assert results.count("below the pass threshold (1 vote, 3 needed)") == 1
    assert "Did not reach the pass threshold." not in results  # the reason said it already
    assert "Reached the pass threshold." in results and "approval threshold" not in results
    # The report's list of projects gives no other reason: there the line stays.
    report = client.get(f"{base}/report", headers=en).get_data(as_text=True)
    assert "Did not reach the pass threshold." in report
    zh = client.get(f"{base}/results", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "通过门槛" in zh and "支持门槛" not in zh and "通过线" not in zh
