"""A small public data set for the API tests: every endpoint has something to answer."""

from datetime import date

from civicvote.delivery.models import ProgressUpdate
from civicvote.extensions import db
from civicvote.proposals.models import Milestone
from civicvote.voting.casting import cast_vote
from tests import factories
from tests.delivery.builders import funded_project


def public_data() -> dict:
    """Communities, rounds, needs, proposals (one draft), ballots (results hidden and shown),
    votes, and a funded project with milestones and a progress report."""
    place, project, run, closed_ballot, _staff = funded_project()
    funding_round = project.round
    need = factories.need(place, funding_round, contact="13800000000")
    declined = factories.need(place, funding_round, status="declined", decline_reason="重复")
    project.needs = [need]
    db.session.add_all(
        [
            Milestone(
                proposal_id=project.id,
                position=0,
                title="采购",
                planned_date=date(2026, 5, 1),
                actual_date=date(2026, 5, 3),
            ),
            Milestone(proposal_id=project.id, position=1, title="施工", planned_date=None),
            ProgressUpdate(proposal_id=project.id, text="树苗已种", percent_complete=40),
        ]
    )
    project.version = 1
    db.session.commit()
    hidden = factories.ballot(funding_round, proposals=2, results_visible_live=False)
    live = factories.ballot(funding_round, proposals=3, results_visible_live=True)
    yes_no = factories.ballot(funding_round, proposals=2, method="yes_no", status="closed")
    receipts = []
    for ballot, payload in (
        (hidden, {"selections": [hidden.items[0].proposal_id]}),
        (live, {"selections": [live.items[0].proposal_id, live.items[1].proposal_id]}),
        (live, {"selections": [live.items[0].proposal_id]}),
    ):
        _credential, token, _short = factories.credential(ballot)
        receipts.append(cast_vote(ballot.id, token, payload).receipt)
    draft = factories.proposal(funding_round, status="draft", title="草稿项目")
    other = factories.community()
    factories.funding_round(other)
    return {
        "community": place,
        "round": funding_round,
        "project": project,
        "need": need,
        "declined": declined,
        "draft": draft,
        "hidden": hidden,
        "live": live,
        "yes_no": yes_no,
        "closed": closed_ballot,
        "receipts": receipts,
    }
