"""Test data for delivery: a funded project with line items, and voter cards to rate it."""

from decimal import Decimal

from civicvote.accounts.models import ORG_MEMBER, ORGANIZER, SUPERVISOR
from civicvote.ballots.models import Ballot
from civicvote.extensions import db
from civicvote.organizations.models import Organization
from civicvote.proposals.models import LineItem, Proposal
from civicvote.registry.credentials import hash_secret, new_short_code, new_token
from civicvote.registry.models import Credential, Household
from civicvote.results.models import AllocationRun, ProjectAllocation
from tests import factories


def funded_project(*, status: str = "final"):
    """A community, its round, an approved proposal of two line items, funded by a run."""
    place = factories.community()
    funding_round = factories.funding_round(place, phase="delivery")
    org = Organization(
        name=f"社工{place.id}",
        registration_number=f"REG{place.id}",
        contact_name="陈",
        contact_phone="123",
        status="approved",
    )
    db.session.add(org)
    db.session.flush()
    proposal = Proposal(
        round_id=funding_round.id,
        organization_id=org.id,
        title="中心花园补绿",
        status="approved",
        implementer=org.name,
        category_code="greening",
    )
    proposal.line_items = [
        LineItem(
            position=0,
            description="树苗",
            quantity=Decimal(10),
            unit="棵",
            unit_cost_fen=100_00,
            total_fen=1000_00,
        ),
        LineItem(
            position=1,
            description="座椅",
            quantity=Decimal(2),
            unit="组",
            unit_cost_fen=500_00,
            total_fen=1000_00,
        ),
    ]
    proposal.total_fen = 2000_00
    db.session.add(proposal)
    ballot = Ballot(round_id=funding_round.id, title="投票", status="closed")
    db.session.add(ballot)
    db.session.flush()
    source = funding_round.fund_sources[0]
    run = AllocationRun(
        round_id=funding_round.id,
        ballot_id=ballot.id,
        rule="greedy",
        tie_break="cost",
        status=status,
    )
    run.projects = [
        ProjectAllocation(
            proposal_id=proposal.id,
            rank=1,
            votes=10,
            funded=True,
            amount_fen=2000_00,
            funding_by_source={str(source.id): 2000_00},
        )
    ]
    db.session.add(run)
    db.session.commit()
    staff = {
        "organizer": factories.user(roles=[(place, ORGANIZER)]),
        "member": factories.user(roles=[(place, ORG_MEMBER)], organization_id=org.id),
        "outsider": factories.user(roles=[(place, ORG_MEMBER)]),
        "supervisor": factories.user(roles=[(place, SUPERVISOR)]),
    }
    return place, proposal, run, ballot, staff


def voter_card(ballot: Ballot, building: str = "3栋") -> tuple[str, str]:
    """A household's voter card for ``ballot``: returns (token, short code)."""
    community_id = ballot.round.community_id
    household = Household(
        community_id=community_id,
        building=building,
        unit="1单元",
        room=f"{db.session.scalar(db.select(db.func.count(Household.id))) + 101}",
    )
    db.session.add(household)
    db.session.flush()
    token, short = new_token(), new_short_code()
    db.session.add(
        Credential(
            ballot_id=ballot.id,
            voter_key=f"h{household.id}",
            token_hash=hash_secret(token),
            short_code_hash=hash_secret(short),
        )
    )
    db.session.commit()
    return token, short
