"""Pabulib import/export and replay, on the seven real files and on hand-made edge cases."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from pabutools.election import parse_pabulib

from civicvote.allocation.pabulib import (
    PabulibError,
    format_number,
    parse_pb,
    replay,
    write_pb,
)
from tests.allocation.conftest import PABULIB, PB_FILES

FILES = [pytest.param(p, id=p.stem) for p in PB_FILES] or [
    pytest.param(None, marks=pytest.mark.skip(reason=f"no .pb files in {PABULIB}"))
]


def read(path: Path):
    return parse_pb(path.read_text(encoding="utf-8"))


def test_all_seven_files_are_present(pabulib_dir):
    assert len(list(pabulib_dir.glob("*.pb"))) == 7


@pytest.mark.parametrize("path", FILES)
def test_replay_meta_rule_matches_selected_column(path):
    election = read(path)
    outcome = replay(election)
    expected = {p.id for p in election.projects if p.columns.get("selected") == "1"}
    assert set(outcome.funded) == expected
    assert outcome.total_cost <= election.budget
    assert outcome.tie_break == "lexico"


@pytest.mark.parametrize("path", FILES)
def test_export_import_round_trip(path):
    election = read(path)
    again = parse_pb(write_pb(election))
    assert again == election
    assert again.meta == election.meta
    assert [(p.id, p.cost) for p in again.projects] == [(p.id, p.cost) for p in election.projects]
    assert [v.vote for v in again.votes] == [v.vote for v in election.votes]


@pytest.mark.parametrize("path", FILES)
def test_parse_agrees_with_pabutools(path):
    election = read(path)
    instance, profile = parse_pabulib(str(path))
    assert Fraction(election.budget) == Fraction(str(instance.budget_limit))
    theirs = {p.name: Fraction(str(p.cost)) for p in instance}
    assert {p.id: Fraction(p.cost) for p in election.projects} == theirs
    assert len(election.votes) == profile.num_ballots()
    ours = sorted(sorted(v.vote) for v in election.votes)
    assert ours == sorted(sorted(p.name for p in ballot) for ballot in profile)


EDGE = (
    "\ufeffMETA\r\n"
    "key;value\r\n"
    'description;"Quoted; with ""inner"" quotes"\r\n'
    "num_projects;3\r\n"
    "num_votes;3\r\n"
    "budget;100,5\r\n"
    "vote_type;cumulative\r\n"
    "rule;greedy\r\n"
    "\r\n"
    "PROJECTS\r\n"
    "project_id;cost;votes;score;name;category;beneficiaries;selected\r\n"
    '10;40.25;2;7;"Park; benches";sport,culture;None;1\r\n'
    "9;60,25;2;5;Library;;children;1\r\n"
    "BO.D1/2;999999999;0;0;Withdrawn;culture;None;0\r\n"
    "VOTES\r\n"
    "voter_id;vote;points;age;sex\r\n"
    "93-0;10,9;4,1;;F\r\n"
    "HJN3ASHT;9,10;4,3;None;M\r\n"
    "x;;;40;\r\n"
)


def test_edge_cases_parse_exactly():
    e = parse_pb(EDGE)
    assert e.meta["description"] == 'Quoted; with "inner" quotes'
    assert e.budget == Fraction(201, 2)
    assert [p.id for p in e.projects] == ["10", "9", "BO.D1/2"]
    assert e.projects[0].cost == Fraction(161, 4)
    assert e.projects[1].cost == Fraction(241, 4)
    assert e.projects[0].columns["name"] == "Park; benches"
    assert e.projects[0].columns["beneficiaries"] is None
    assert e.projects[1].columns["category"] == ""
    assert e.votes[0].vote == ("10", "9") and e.votes[0].points == (4, 1)
    assert e.votes[0].columns["voter_id"] == "93-0"
    assert e.votes[1].columns["age"] is None
    assert e.votes[2].vote == () and e.votes[2].points == ()
    assert e.to_projects()[0].categories == frozenset({"sport", "culture"})
    again = parse_pb(write_pb(e))
    assert again.meta == e.meta and again.projects == e.projects and again.votes == e.votes


def test_edge_case_replay_uses_counted_scores():
    # Scores from VOTES: "10" has 7 points, "9" has 5; both fit in 100.5 exactly.
    outcome = replay(parse_pb(EDGE))
    assert outcome.funded == ("10", "9")
    assert outcome.total_cost == Fraction(201, 2)


def test_format_number_is_exact():
    assert format_number(Fraction(133175111, 100)) == "1331751.11"
    assert format_number(4000) == "4000"
    assert format_number(Fraction(-1, 8)) == "-0.125"
    with pytest.raises(ValueError):
        format_number(Fraction(1, 3))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "PROJECTS\nproject_id;cost\n1;5\n",
        "META\nkey;value\nbudget\n",
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;None\n",
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;abc\n",
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n1;2\n",
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\n1;6\n",
        # Out of range: past what MES's floats hold, or slow to build exactly.
        "META\nkey;value\nbudget;1e400\nPROJECTS\nproject_id;cost\n1;5\n",
        "META\nkey;value\nbudget;1e999999\nPROJECTS\nproject_id;cost\n1;5\n",
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;1000000000000000000001\n",
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;" + "9" * 5000 + "\n",
    ],
)
def test_unreadable_files_raise(text):
    with pytest.raises(PabulibError):
        parse_pb(text)


def test_replay_without_votes_uses_project_columns():
    text = (
        "META\nkey;value\nbudget;10\nvote_type;approval\nrule;greedy\n"
        "PROJECTS\nproject_id;cost;votes\na;6;3\nb;5;9\nc;4;1\nVOTES\nvoter_id;vote\n"
    )
    assert replay(parse_pb(text)).funded == ("b", "c")


@pytest.mark.parametrize("path", FILES)
def test_pabutools_reads_our_export_the_same(path):
    from pabutools.election.pabulib import parse_pabulib_from_string

    instance, profile = parse_pabulib(str(path))
    again, again_profile = parse_pabulib_from_string(write_pb(read(path)))
    assert again.budget_limit == instance.budget_limit
    assert {(p.name, p.cost) for p in again} == {(p.name, p.cost) for p in instance}
    assert again.meta == instance.meta
    assert again_profile.num_ballots() == profile.num_ballots()


def test_replay_equalshares_add1_matches_pabutools():
    from tests.allocation import pabu

    costs = {"1": 30, "2": 20, "10": 25, "x": 10}
    ballots = [{"1", "2"}, {"1"}, {"10", "x"}, {"2", "10"}, {"x"}, {"1", "x"}]
    rows = "\n".join(f"{i};{','.join(sorted(b))}" for i, b in enumerate(ballots))
    text = (
        "META\nkey;value\nbudget;60\nvote_type;approval\nrule;equalshares/add1\n"
        "PROJECTS\nproject_id;cost;votes\n"
        + "\n".join(f"{p};{c};0" for p, c in costs.items())
        + "\nVOTES\nvoter_id;vote\n"
        + rows
        + "\n"
    )
    outcome = replay(parse_pb(text))
    assert set(outcome.funded) == pabu.mes_add1(costs, ballots, 60)
    assert outcome.rule == "mes/add1"


def test_real_files_round_trip_through_the_writer_and_pass_pabulibs_checker(pabulib_dir):
    from tests.allocation.pabu import checker_errors

    for path in sorted(pabulib_dir.glob("*.pb")):
        election = parse_pb(path.read_text(encoding="utf-8-sig"))
        text = write_pb(election)
        assert checker_errors(text) == {}, path.name
        again = parse_pb(text)
        assert again == election, path.name
        selected = {p.id for p in election.projects if p.columns.get("selected") == "1"}
        assert set(replay(again).funded) == selected, path.name
