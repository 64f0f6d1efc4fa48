"""The round report and the open data exports: counts right, nothing private."""

import csv
import io
import json
from datetime import timedelta

from civicvote.ballots.lifecycle import change_status
from civicvote.delivery.services import add_milestone, record_spending
from civicvote.extensions import db
from civicvote.intake.models import Need
from civicvote.reports.services import EXPORTS, funnel, participation
from civicvote.results import services as results
from civicvote.voting.casting import cast_vote
from tests import factories


def _finished_round():
    """A round with needs on two channels, a closed vote in two buildings, a final result."""
    funding_round = factories.funding_round(factories.community(), budget_fen=10_000_000)
    place = funding_round.community
    for n, channel in enumerate(["online", "online", "paper"]):
        db.session.add(
            Need(
                community_id=place.id,
                round_id=funding_round.id,
                title=f"需求{n}",
                tracking_code=f"TRACK{n:05d}",
                contact="13800000000",
                channel=channel,
                status="accepted" if n else "new",
            )
        )
    db.session.commit()
    ballot = factories.ballot(funding_round, costs=[1_000_000, 2_000_000, 9_000_000])
    ids = [i.proposal_id for i in ballot.items]
    homes = factories.registry(place, buildings=2, rooms=2, per_room=1)
    for home, choice in zip(homes, ([0], [0, 1], [1], [2]), strict=True):
        _c, token, _s = factories.credential(ballot, f"h{home.id}")
        cast_vote(ballot.id, token, {"selections": [ids[i] for i in choice]})
    change_status(ballot.id, "close", actor=None)
    run = results.run_allocation(funding_round, ballot, actor=None, tie_break="lexico")
    results.finalize(run, actor=None, now=run.notice_ends_at + timedelta(seconds=1))
    return funding_round, ballot, ids


def test_participation_and_funnel(app):
    funding_round, ballot, _ids = _finished_round()
    part = participation(funding_round)
    assert part["needs_by_channel"] == {"online": 2, "paper": 1}
    assert part["votes_by_channel"] == {"online": 4}
    assert part["votes_by_building"] == {"1栋": 2, "2栋": 2}
    assert dict(funnel(funding_round)) == {
        "needs": 3,
        "accepted": 2,
        "proposals": 3,
        "approved": 3,
        "on_ballot": 3,
        "funded": 2,
    }


def test_report_page_renders_with_charts(client):
    funding_round, _ballot, _ids = _finished_round()
    slug = funding_round.community.slug
    page = client.get(f"/c/{slug}/rounds/{funding_round.id}/report").get_data(as_text=True)
    assert page.count('<svg class="bar"') >= 8
    assert "1栋" in page and "13800000000" not in page


def test_every_export_in_both_formats_without_private_data(client):
    funding_round, _ballot, _ids = _finished_round()
    slug = funding_round.community.slug
    for table in EXPORTS:
        base = f"/c/{slug}/rounds/{funding_round.id}/export/{table}"
        as_json = client.get(base + ".json")
        assert as_json.status_code == 200, table
        rows = json.loads(as_json.get_data(as_text=True))[table]
        as_csv = client.get(base + ".csv")
        assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
        text = as_csv.get_data(as_text=True)
        assert text.startswith("\ufeff")
        parsed = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert len(parsed) == len(rows), table
        for body in (as_json.get_data(as_text=True), text):
            assert "13800000000" not in body and "TRACK0" not in body
    needs = json.loads(
        client.get(f"/c/{slug}/rounds/{funding_round.id}/export/needs.json").get_data(as_text=True)
    )
    assert len(needs["needs"]) == 3
    allocation = json.loads(
        client.get(f"/c/{slug}/rounds/{funding_round.id}/export/allocation.json").get_data(
            as_text=True
        )
    )
    assert sum(row["funded"] for row in allocation["allocation"]) == 2
    assert client.get(f"/c/{slug}/rounds/{funding_round.id}/export/users.csv").status_code == 404
    assert client.get(f"/c/{slug}/rounds/{funding_round.id}/export/needs.xml").status_code == 404


def test_spending_and_milestones_exported_for_funded_projects(client):
    funding_round, _ballot, ids = _finished_round()
    from civicvote.delivery.services import funded_allocation
    from civicvote.proposals.models import Proposal

    proposal = db.session.get(Proposal, ids[0])
    actor = factories.user()
    add_milestone(proposal, "开工", None, actor=actor)
    from datetime import date

    allocation = funded_allocation(proposal.id)
    record_spending(
        proposal,
        allocation,
        spent_on=date.today(),
        item="材料",
        amount_fen=50_000,
        payee="供应商",
        line_item_id=None,
        fund_source_id=int(next(iter(allocation.funding_by_source))),  # a source that paid
        receipt=None,
        actor=actor,
    )
    slug = funding_round.community.slug
    spending = json.loads(
        client.get(f"/c/{slug}/rounds/{funding_round.id}/export/spending.json").get_data(
            as_text=True
        )
    )
    assert [row["amount_fen"] for row in spending["spending"]] == [50_000]
    milestones = json.loads(
        client.get(f"/c/{slug}/rounds/{funding_round.id}/export/milestones.json").get_data(
            as_text=True
        )
    )
    assert [row["title"] for row in milestones["milestones"]] == ["开工"]
