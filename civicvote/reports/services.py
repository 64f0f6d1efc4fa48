"""The round report and the open data exports (CSV and JSON of every public table).

Participation is reported only as counts (by channel, by building); nothing here reads ballot
contents other than through the tally, so secrecy holds in the report as everywhere else.
"""

import io
import json

from ..ballots.models import Ballot, Participation
from ..checkin.walkins import walk_ins_by_assembly
from ..csvsafe import SafeWriter, safe_dict_rows
from ..delivery.models import ProgressUpdate, SpendingEntry
from ..delivery.services import (
    completion_of,
    counted_spending,
    counted_spending_by_source,
    funded_projects,
    rating_summary,
)
from ..extensions import db
from ..intake.models import Need
from ..intake.services import list_needs, need_counts, need_json
from ..proposals.listing import proposal_json, public_proposals
from ..proposals.models import Milestone
from ..registry.models import Household, Resident
from ..results.services import ballot_outcomes, latest_run, source_use
from ..rounds.models import FundingRound
from ..timeutil import iso_utc
from ..voting.tally import tally
from .columns import header, readable_rows


def _building_of_keys(keys: list[str]) -> dict[str, str]:
    """voter key → building, for household ("h…") and resident ("r…") keys."""
    households = {int(k[1:]) for k in keys if k.startswith("h") and k[1:].isdigit()}
    residents = {int(k[1:]) for k in keys if k.startswith("r") and k[1:].isdigit()}
    buildings = {}
    if households:
        for hid, building in db.session.execute(
            db.select(Household.id, Household.building).filter(Household.id.in_(households))
        ):
            buildings[f"h{hid}"] = building
    if residents:
        for rid, building in db.session.execute(
            db.select(Resident.id, Household.building)
            .join(Household, Resident.household_id == Household.id)
            .filter(Resident.id.in_(residents))
        ):
            buildings[f"r{rid}"] = building
    return buildings


def participation(funding_round: FundingRound) -> dict:
    """Needs by channel, ballots by channel and by building, turnout per ballot."""
    needs_by_channel = need_counts(funding_round)["channel"]  # as the triage page counts
    ballots = []
    by_building: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for ballot in funding_round.ballots:
        if ballot.status == "draft":
            continue
        counts = tally(ballot.id)
        ballots.append(
            {
                "ballot": ballot,
                "cast": counts.ballots_cast,
                "eligible": counts.eligible,
                "percent": counts.turnout_percent,
                "walk_ins": walk_ins_by_assembly(ballot.id),
            }
        )
        for channel, n in counts.by_channel.items():
            by_channel[channel] = by_channel.get(channel, 0) + n
        keys = list(
            db.session.scalars(db.select(Participation.voter_key).filter_by(ballot_id=ballot.id))
        )
        for building in _building_of_keys(keys).values():
            by_building[building] = by_building.get(building, 0) + 1
    return {
        "needs_by_channel": needs_by_channel,
        "ballots": ballots,
        "votes_by_channel": by_channel,
        "votes_by_building": dict(sorted(by_building.items())),
    }


def funnel(funding_round: FundingRound) -> list[tuple[str, int]]:
    """From needs to funded projects, each stage's count."""
    needs = list(db.session.scalars(db.select(Need).filter_by(round_id=funding_round.id)))
    proposals = public_proposals(funding_round)
    on_ballot = {item.proposal_id for b in funding_round.ballots for item in b.items}
    run = latest_run(funding_round.id)
    return [
        ("needs", len(needs)),
        ("accepted", sum(1 for n in needs if n.status == "accepted")),
        ("proposals", len(proposals)),
        ("approved", sum(1 for p in proposals if p.status == "approved")),
        ("on_ballot", len(on_ballot)),
        ("funded", sum(1 for p in run.projects if p.funded) if run else 0),
    ]


def money(funding_round: FundingRound) -> dict:
    """Money by fund source (allocated, spent) and by category (funded amounts)."""
    run = latest_run(funding_round.id)
    sources = (
        source_use(run, funding_round)
        if run
        else [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "amount_fen": s.amount_fen,
                "used_fen": 0,
                "left_fen": s.amount_fen,
            }
            for s in funding_round.fund_sources
        ]
    )
    # Counted spending only (over-budget payments once approved), as on each project's page.
    spent = counted_spending_by_source(p.proposal_id for p in (run.projects if run else []))
    for source in sources:
        source["spent_fen"] = spent.pop(source["id"], 0)
    for source_id, amount in spent.items():  # a removed source, or none stated
        sources.append(
            {
                "id": source_id,
                "name": None,
                "kind": "",
                "amount_fen": 0,
                "used_fen": 0,
                "left_fen": 0,
                "spent_fen": amount,
            }
        )
    names = {c.code: c.name for c in funding_round.categories}
    by_category: dict[str, int] = {}
    for project in run.projects if run else []:
        if project.funded:
            name = names.get(project.proposal.category_code, project.proposal.category_code)
            by_category[name] = by_category.get(name, 0) + project.amount_fen
    return {"sources": sources, "by_category": dict(sorted(by_category.items()))}


def delivery(funding_round: FundingRound) -> list[dict]:
    """Each funded project: milestones reached, money spent, completion, satisfaction."""
    rows = []
    for allocation in funded_projects(funding_round.id):
        proposal = allocation.proposal
        milestones = proposal.milestones
        spent = counted_spending(proposal.id)
        report = completion_of(proposal.id)
        rows.append(
            {
                "proposal": proposal,
                "amount_fen": allocation.amount_fen,
                "spent_fen": int(spent),
                "milestones_done": sum(1 for m in milestones if m.actual_date),
                "milestones": len(milestones),
                "completed": bool(report and report.signed_off_at),
                "ratings": rating_summary(proposal.id),
            }
        )
    return rows


def round_report(funding_round: FundingRound) -> dict:
    return {
        "round": funding_round,
        "participation": participation(funding_round),
        "funnel": funnel(funding_round),
        "money": money(funding_round),
        "delivery": delivery(funding_round),
        "run": latest_run(funding_round.id),
        "outcomes": ballot_outcomes(funding_round),
    }


# --- open data exports -------------------------------------------------------------------


def _results_rows(funding_round: FundingRound) -> list[dict]:
    rows = []
    for ballot in funding_round.ballots:
        if ballot.status != "closed":
            continue  # live counts belong to the board; exports are for settled ballots
        counts = tally(ballot.id)
        for item in ballot.items:
            rows.append(
                {
                    "ballot_id": ballot.id,
                    "proposal_id": item.proposal_id,
                    "title": item.proposal.title,
                    "votes": counts.votes.get(item.proposal_id, 0),
                    "no_votes": counts.no_votes.get(item.proposal_id, 0),
                    "ballots_cast": counts.ballots_cast,
                }
            )
    return rows


def _allocation_rows(funding_round: FundingRound) -> list[dict]:
    run = latest_run(funding_round.id)
    return (
        [
            {
                "run_id": run.id,
                "status": run.status,
                "rule": run.rule,
                "tie_break": run.tie_break,
                "proposal_id": p.proposal_id,
                "rank": p.rank,
                "votes": p.votes,
                "funded": p.funded,
                "amount_fen": p.amount_fen,
                "reason": (p.reason or {}).get("code", ""),
                "funding_by_source": p.funding_by_source,
            }
            for p in sorted(run.projects, key=lambda p: p.rank)
        ]
        if run
        else []
    )


def _funded_ids(funding_round: FundingRound) -> list[int]:
    return [p.proposal_id for p in funded_projects(funding_round.id)]


def _spending_rows(funding_round: FundingRound) -> list[dict]:
    ids = _funded_ids(funding_round) or [-1]
    return [
        {
            "id": s.id,
            "proposal_id": s.proposal_id,
            "line_item_id": s.line_item_id,
            "fund_source_id": s.fund_source_id,
            "spent_on": s.spent_on.isoformat(),
            "item": s.item,
            "amount_fen": s.amount_fen,
            "payee": s.payee,
            "over_budget": s.over_budget,
            "approved": s.approved_at is not None,
        }
        for s in db.session.scalars(
            db.select(SpendingEntry)
            .filter(SpendingEntry.proposal_id.in_(ids))
            .order_by(SpendingEntry.id)
        )
    ]


def _milestone_rows(funding_round: FundingRound) -> list[dict]:
    ids = _funded_ids(funding_round) or [-1]
    return [
        {
            "id": m.id,
            "proposal_id": m.proposal_id,
            "title": m.title,
            "planned_date": m.planned_date.isoformat() if m.planned_date else None,
            "actual_date": m.actual_date.isoformat() if m.actual_date else None,
            "signed_off": m.signed_off_at is not None,
            "comment": m.sign_off_comment,
        }
        for m in db.session.scalars(
            db.select(Milestone).filter(Milestone.proposal_id.in_(ids)).order_by(Milestone.id)
        )
    ]


def _progress_rows(funding_round: FundingRound) -> list[dict]:
    ids = _funded_ids(funding_round) or [-1]
    return [
        {
            "id": u.id,
            "proposal_id": u.proposal_id,
            "text": u.text,
            "percent_complete": u.percent_complete,
            "created_at": iso_utc(u.created_at),
        }
        for u in db.session.scalars(
            db.select(ProgressUpdate)
            .filter(ProgressUpdate.proposal_id.in_(ids))
            .order_by(ProgressUpdate.id)
        )
    ]


def _rating_rows(funding_round: FundingRound) -> list[dict]:
    rows = []
    for proposal_id in _funded_ids(funding_round):
        summary = rating_summary(proposal_id)
        for row in summary["by_building"]:
            rows.append({"proposal_id": proposal_id, **row})
    return rows


def _fund_source_rows(funding_round: FundingRound) -> list[dict]:
    return money(funding_round)["sources"]


def _ballot_rows(funding_round: FundingRound) -> list[dict]:
    return [
        {
            "id": b.id,
            "title": b.title,
            "method": b.method,
            "mode": b.mode,
            "status": b.status,
            "proposal_ids": [i.proposal_id for i in b.items],
        }
        for b in db.session.scalars(db.select(Ballot).filter_by(round_id=funding_round.id))
    ]


EXPORTS = {
    "needs": lambda r: [need_json(n) for n in list_needs(r, include_merged=True)],
    "proposals": lambda r: [proposal_json(p) for p in public_proposals(r)],
    "fund_sources": _fund_source_rows,
    "ballots": _ballot_rows,
    "results": _results_rows,
    "allocation": _allocation_rows,
    "milestones": _milestone_rows,
    "progress": _progress_rows,
    "spending": _spending_rows,
    "ratings": _rating_rows,
}


def export_rows(funding_round: FundingRound, table: str) -> list[dict]:
    return EXPORTS[table](funding_round)


def _flat(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def to_csv(rows: list[dict], headers=None) -> str:
    """Rows as CSV (UTF-8 with BOM so spreadsheet programs read Chinese right); nested values
    become JSON. ``headers`` names each column in the header row (the field names otherwise)."""
    out = io.StringIO()
    out.write("\ufeff")
    if not rows:
        return out.getvalue()
    columns = list(rows[0])
    flat = (
        {
            k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
            for k, v in row.items()
        }
        for row in rows
    )
    # Cells that would be formulas in a spreadsheet are written as text (csvsafe).
    body = safe_dict_rows(flat, columns)
    next(body)  # the header row of field names, replaced by the one asked for
    writer = SafeWriter(out)
    writer.writerow([(headers or str)(column) for column in columns])
    writer.writerows(body)
    return out.getvalue()


def export_csv(funding_round: FundingRound, table: str) -> str:
    """One export as a CSV file for people: headers and coded values in the reader's language
    (reports/columns.py); the JSON export keeps the field names and codes."""
    categories = {c.code: c.name for c in funding_round.categories}
    rows = readable_rows(table, export_rows(funding_round, table), categories)
    return to_csv(rows, headers=header)
