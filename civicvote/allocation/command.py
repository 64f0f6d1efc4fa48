"""``civicvote allocate FILE.pb``: replay or recompute the outcome of a Pabulib file.

The main CLI registers it with ``cli.add_command(allocate_command, "allocate")``.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction

import click

from civicvote.allocation.explain import describe_explanation, explain
from civicvote.allocation.model import jsonify
from civicvote.allocation.pabulib import PabulibError, parse_number, parse_pb, replay
from civicvote.allocation.rules import COMPLETIONS


def _number(value) -> int | float:
    value = Fraction(value)
    return int(value) if value.denominator == 1 else float(value)


def _cores() -> int:
    """The cores this process may run on (a container's share, where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _explanations(election, outcome, **options):
    """The outcome explained, and the same explained for the other rule (greedy <-> MES)."""
    projects, votes = election.to_projects(), election.to_votes()
    groups = election.voter_groups()  # per-building figures, where the file carries them
    rival = "greedy" if outcome.rule.startswith("mes") else "mes"
    if rival == "mes":  # MES as the field runs it, not with the greedy round's "none"
        options = {**options, "completion": "add1"}
    mine = explain(outcome, projects, votes, groups)
    try:
        counter = replay(election, rule=rival, **options)
    except ValueError:  # e.g. MES on a file without ballots
        return mine, None
    return mine, explain(counter, projects, votes, groups)


@click.command("allocate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--rule",
    type=click.Choice(["greedy", "greedy-no-skip", "greedy-threshold", "mes"]),
    help="Rule to apply (default: the file's META rule). mes = equal shares, cost "
    "utilities, add1 completion.",
)
@click.option("--threshold", help="Minimum score for a project to be fundable.")
@click.option(
    "--tie-break",
    help="lexico, cost, cost:SEED or lot:SEED (default: the file's civicvote settings, else "
    "lexico).",
)
@click.option(
    "--completion",
    type=click.Choice(COMPLETIONS),
    help="What MES does with the money it leaves (default: the file's, else add1).",
)
@click.option("--explain", is_flag=True, help="Why each project was funded or not, and fairness.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@click.option(
    "--prove",
    is_flag=True,
    help="add1: prove every increment, however long it takes (seconds on the largest "
    "elections measured, on two cores), instead of searching past the usual amount of work.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="With --prove, on Linux: how many processes prove parts of add1 at once (default: "
    "one per core this command may use).",
)
def allocate_command(
    file, rule, threshold, tie_break, completion, explain, as_json, prove, workers
):
    """Print the projects FILE.pb funds under its rule (or --rule) and their total cost.

    A file civicvote exported is recounted with the round's own rule, completion, tie-break
    and seed, threshold and fund sources, which its META comment carries.
    """
    if workers and not prove:
        raise click.UsageError("--workers only applies with --prove")
    try:
        with open(file, encoding="utf-8-sig") as handle:
            election = parse_pb(handle.read())
    except (OSError, UnicodeDecodeError, PabulibError) as exc:
        raise click.UsageError(f"cannot read {file}: {exc}") from exc
    workers = (workers or _cores()) if prove else 1
    try:
        limit = parse_number(threshold) if threshold is not None else None
        outcome = replay(
            election,
            rule=rule,
            threshold=limit,
            tie_break=tie_break,
            completion=completion,
            prove=prove,
            workers=workers,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    search = outcome.details.get("add1_search") or {}
    if search and not search["exact"]:
        # Only the largest elections: say so, so that a recounter knows what to rerun.
        click.echo(
            f"add1 searched: {search['unchecked_increments']} of "
            f"{outcome.details['add1_increments']} increments were not checked one by one; "
            "run again with --prove to check them all (docs/recount.md).",
            err=True,
        )
    explained = other = None
    if explain:
        explained, other = _explanations(
            election, outcome, threshold=limit, tie_break=tie_break, prove=prove, workers=workers
        )
    if as_json:
        payload = {
            "selected": list(outcome.funded),
            "cost": _number(outcome.total_cost),
            "rule": rule or election.meta.get("rule"),
            "civicvote_rule": outcome.rule,
            "tie_break": outcome.tie_break,
        }
        if search:
            payload["add1"] = {
                "increments": outcome.details["add1_increments"],
                "exact": search["exact"],
                "unchecked_increments": search.get("unchecked_increments", 0),
                "searched": "probes" in search,
                "runs": search.get("runs", 0),
                "parts": search.get("parts", 1),  # walked by several processes at once
            }
        if explained is not None:
            payload["explanation"] = jsonify(explained)
            payload["counterfactual"] = jsonify(other)
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    if explained is not None:
        click.echo(describe_explanation(explained, other))
        return
    for pid in outcome.funded:
        click.echo(pid)
    click.echo(f"total cost: {_number(outcome.total_cost)}")
