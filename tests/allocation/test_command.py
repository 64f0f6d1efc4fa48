"""The ``civicvote allocate`` command, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from civicvote.allocation.command import allocate_command
from civicvote.allocation.pabulib import parse_pb


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
