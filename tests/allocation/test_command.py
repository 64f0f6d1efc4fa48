"""The ``civicvote allocate`` command, through click's CliRunner."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from civicvote.allocation.command import allocate_command
from civicvote.allocation.pabulib import Election, PbProject, PbVote, parse_pb, write_pb


def run(*args):
    return CliRunner().invoke(allocate_command, [str(a) for a in args])


def test_replays_meta_rule_as_json(pabulib_dir):
    path = pabulib_dir / "Poland_Katowice_2022_Zarzecze.pb"
    result = run(path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    election = parse_pb(path.read_text(encoding="utf-8"))
    expected = [p.id for p in election.projects if p.columns.get("selected") == "1"]
    assert sorted(data["selected"]) == sorted(expected)
    costs = {p.id: p.cost for p in election.projects}
    assert data["cost"] == sum(costs[p] for p in expected)
    assert data["rule"] == "greedy-threshold"


def test_text_output_lists_ids_and_total(pabulib_dir):
    result = run(pabulib_dir / "Poland_Warszawa_2019_Radosc.pb")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[-1] == "total cost: 151250"
    assert set(lines[:-1]) == {"1318", "2407", "257", "2391", "2397"}


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "mes"])
def test_explicit_rules(pabulib_dir, rule):
    result = run(pabulib_dir / "Poland_Gdynia_2022_Orlowo__small.pb", "--rule", rule, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rule"] == rule and data["cost"] <= 43850


def test_threshold_and_tie_break_options(pabulib_dir):
    path = pabulib_dir / "Poland_Lodz_2020_Wiskitno.pb"
    result = run(path, "--rule", "greedy-threshold", "--threshold", "500", "--json")
    assert json.loads(result.output)["selected"] == ["G003WI", "G105WI"]
    assert run(path, "--tie-break", "lot:7").exit_code == 0
    bad = run(path, "--tie-break", "coin")
    assert bad.exit_code == 2 and "tie-break" in bad.output


def test_unreadable_file_exits_2(tmp_path):
    missing = run(tmp_path / "nope.pb")
    assert missing.exit_code == 2 and "cannot read" in missing.output
    junk = tmp_path / "junk.pb"
    junk.write_text("this is not pabulib\n")
    result = run(junk)
    assert result.exit_code == 2 and "cannot read" in result.output
    binary = tmp_path / "bin.pb"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert run(binary).exit_code == 2


def test_unsupported_meta_rule_exits_2(tmp_path):
    path = tmp_path / "custom.pb"
    path.write_text(
        "META\nkey;value\nbudget;10\nvote_type;approval\nrule;greedy-custom\n"
        "PROJECTS\nproject_id;cost\na;5\nVOTES\nvoter_id;vote\n1;a\n"
    )
    result = run(path)
    assert result.exit_code == 2 and "greedy-custom" in result.output
    assert json.loads(run(path, "--rule", "greedy", "--json").output)["selected"] == ["a"]


def test_explain_prints_reasons_fairness_and_the_counterfactual(pabulib_dir):
    result = run(pabulib_dir / "Poland_Gdynia_2022_Orlowo__small.pb", "--rule", "mes", "--explain")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Rule: mes/add1" in text and "effective support" in text
    assert "its supporters' money went to" in text
    # Why, in words rather than reason codes.
    assert "2022/ORL/0011: funded by equal shares in round 1;" in text
    assert "2022/ORL/0014: not funded, its supporters had only 11,619.64" in text
    assert "(funded)" not in text and "not_affordable" not in text
    assert "Voters with at least one funded project they supported" in text
    assert "Counterfactual: greedy would fund" in text
    as_json = json.loads(
        run(pabulib_dir / "Poland_Warszawa_2019_Radosc.pb", "--explain", "--json").output
    )
    assert as_json["explanation"]["rule"] == "greedy"
    assert as_json["counterfactual"]["rule"].startswith("mes")


def test_mes_says_whether_add1_was_walked_exactly(pabulib_dir):
    """A recounter learns how add1 was found: here every increment was walked."""
    result = run(pabulib_dir / "Poland_Warszawa_2019_Radosc.pb", "--rule", "mes", "--json")
    assert result.exit_code == 0, result.output
    add1 = json.loads(result.output)["add1"]
    assert add1["exact"] is True and add1["unchecked_increments"] == 0
    assert add1["increments"] >= 0


def _small_units_pb(num_projects: int, num_voters: int, budget: int) -> str:
    """A city-sized approval election in a small currency unit: add1 needs thousands of
    increments, more than its usual work budget walks one by one."""
    rng = random.Random(1)
    ids = [f"P{i:03d}" for i in range(num_projects)]
    popularity = [1 / (i + 1) ** 0.8 for i in range(num_projects)]
    rng.shuffle(popularity)
    raw = [rng.lognormvariate(0, 0.9) for _ in ids]
    costs = [max(1000, int(r * budget * 3.2 / sum(raw))) for r in raw]
    meta = {"description": "small units", "country": "Nowhere", "unit": "Test"}
    meta |= {"instance": "2026", "num_projects": str(num_projects), "num_votes": str(num_voters)}
    meta |= {"budget": str(budget), "vote_type": "approval", "rule": "equalshares/add1"}
    projects = [PbProject(p, c, {"cost": str(c)}) for p, c in zip(ids, costs, strict=True)]
    votes = []
    for voter in range(num_voters):
        chosen = set(rng.choices(ids, weights=popularity, k=rng.randint(1, 15)))
        votes.append(PbVote(tuple(sorted(chosen)), None, {"voter_id": str(voter)}))
    election = Election(
        meta, ("project_id", "cost"), tuple(projects), ("voter_id", "vote"), tuple(votes)
    )
    return write_pb(election)


def test_prove_checks_every_increment_the_search_left(tmp_path, without_cost_bounds):
    """On a city-sized election add1 searches past its usual work and says what it left
    unchecked; --prove walks every increment and gives the proven outcome. (Without cost
    bounds, as on an election whose outcomes cost close to the budget throughout: with them,
    this one is proven within the usual work.)"""
    path = tmp_path / "city.pb"
    path.write_text(_small_units_pb(100, 8000, 1_000_000_000), encoding="utf-8")
    searched = run(path, "--json")
    assert searched.exit_code == 0, searched.output
    fast = json.loads(searched.stdout)
    assert fast["add1"]["searched"] and fast["add1"]["unchecked_increments"] > 0
    assert not fast["add1"]["exact"]
    assert "--prove" in searched.stderr

    proven = run(path, "--json", "--prove", "--workers", "1")
    assert proven.exit_code == 0, proven.output
    exact = json.loads(proven.stdout)
    assert not exact["add1"]["searched"] and exact["add1"]["exact"]
    assert exact["add1"]["unchecked_increments"] == 0 and exact["add1"]["parts"] == 1
    assert exact["add1"]["runs"] > fast["add1"]["runs"]
    assert "--prove" not in proven.stderr
    # The search found the same increment and outcome here; the proof is what says so.
    assert exact["add1"]["increments"] == fast["add1"]["increments"]
    assert exact["selected"] == fast["selected"]

    # Two processes prove parts of it at once: the same proven increment and outcome.
    shared = run(path, "--json", "--prove", "--workers", "2")
    assert shared.exit_code == 0, shared.output
    both = json.loads(shared.stdout)
    assert both["add1"]["parts"] == 8 and both["add1"]["exact"], both["add1"]
    assert both["add1"]["unchecked_increments"] == 0
    assert both["add1"]["increments"] == exact["add1"]["increments"]
    assert both["selected"] == exact["selected"]
    refused = run(path, "--workers", "2")
    assert refused.exit_code == 2 and "--workers only applies with --prove" in refused.output


def test_the_civicvote_command_recounts_without_building_the_app(pabulib_dir, monkeypatch, capsys):
    """Anyone recounts from the file alone: ``civicvote allocate`` needs no app, database or
    configuration, and does not build the app (a second of start-up) to find the command."""
    import sys

    from civicvote import cli

    def no_app(*_args, **_kwargs):
        raise AssertionError("civicvote allocate built the app")

    monkeypatch.setattr(cli, "create_app", no_app)
    path = pabulib_dir / "Poland_Warszawa_2019_Radosc.pb"
    monkeypatch.setattr(sys, "argv", ["civicvote", "allocate", str(path), "--json"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 0
    assert set(json.loads(capsys.readouterr().out)["selected"]) == {
        "1318",
        "2407",
        "257",
        "2391",
        "2397",
    }


def test_a_budget_out_of_range_is_a_clear_error_not_a_traceback(tmp_path):
    path = tmp_path / "huge.pb"
    path.write_text(
        "META\nkey;value\nbudget;1e400\nvote_type;approval\nrule;equalshares/add1\n"
        "PROJECTS\nproject_id;cost\n1;100\nVOTES\nvoter_id;vote\n1;1\n",
        encoding="utf-8",
    )
    result = run(path, "--rule", "mes")
    assert result.exit_code == 2
    assert "number out of range: '1e400'" in result.output
    assert not isinstance(result.exception, OverflowError)
