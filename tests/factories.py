"""Builders for test data: small functions with sensible defaults, overridable by keyword."""

import itertools
import re

from civicvote.accounts.models import Membership, User
from civicvote.communities.models import Community
from civicvote.extensions import db
from civicvote.rounds.models import FundingRound, FundSource, RoundCategory

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def community(**fields) -> Community:
    n = next(_counter)
    values = {"slug": f"community-{n}", "name": f"社区{n}", "district": "姑苏区"}
    values.update(fields)
    obj = Community(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def user(
    username: str | None = None,
    *,
    roles=(),
    is_admin: bool = False,
    password: str = PASSWORD,
    **fields,
) -> User:
    """A user holding ``roles``: pairs of (community, role)."""
    obj = User(username=username or f"user{next(_counter)}", is_admin=is_admin, **fields)
    obj.set_password(password)
    db.session.add(obj)
    db.session.flush()
    for held_in, role in roles:
        db.session.add(Membership(user_id=obj.id, community_id=held_in.id, role=role))
    db.session.commit()
    return obj


def funding_round(of: Community, **fields) -> FundingRound:
    values = {
        "community_id": of.id,
        "name": "2026年度",
        "year": 2026,
        "budget_fen": 20_000_000,
        "per_project_cap_fen": 8_000_000,
    }
    values.update(fields)
    obj = FundingRound(**values)
    obj.categories = [
        RoundCategory(code="elderly", name="为老服务", position=0),
        RoundCategory(code="greening", name="环境绿化", position=1),
    ]
    obj.fund_sources = [
        FundSource(name="为民服务专项资金", kind="general", amount_fen=values["budget_fen"])
    ]
    db.session.add(obj)
    db.session.commit()
    return obj


def csrf_token(page: str) -> str:
    """The CSRF token of the first form on a rendered page."""
    match = re.search(r'name="(?:[a-z]+-)?csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real form (CSRF token included)."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"csrf_token": token, "username": username, "password": password}
    )


# --- registry, ballots, assemblies (issue 4) ---------------------------------------------------


def household(of: Community, building: str = "1栋", unit: str = "1单元", room: str = "101"):
    from civicvote.registry.models import Household

    obj = Household(community_id=of.id, building=building, unit=unit, room=room)
    db.session.add(obj)
    db.session.commit()
    return obj


def resident(in_household, **fields):
    from civicvote.registry.models import Resident

    n = next(_counter)
    values = {
        "community_id": in_household.community_id,
        "household_id": in_household.id,
        "external_ref": f"R{n:05d}",
        "name": f"居民{n}",
        "birth_year": 1970,
        "residence_status": "registered",
        "eligible": True,
    }
    values.update(fields)
    obj = Resident(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def assembly(of_ballot, **fields):
    from datetime import datetime

    from civicvote.checkin.models import Assembly

    values = {
        "ballot_id": of_ballot.id,
        "title": "居民议事会",
        "place": "社区服务中心",
        "starts_at": datetime(2026, 6, 1, 1, 30),
    }
    values.update(fields)
    obj = Assembly(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def registry(of: Community, buildings: int = 2, rooms: int = 3, per_room: int = 2) -> list:
    """Households ``<b>栋-1单元-<r>01``, ``per_room`` adult residents in each; returns them."""
    made = []
    for b in range(1, buildings + 1):
        for r in range(1, rooms + 1):
            h = household(of, building=f"{b}栋", room=f"{r}01")
            for _ in range(per_room):
                resident(h)
            made.append(h)
    return made


# --- ballots and credentials (casting) ------------------------------------------------------


def proposal(of_round: FundingRound, *, cost_fen: int = 1_000_000, **fields):
    """An approved proposal of ``of_round`` costing ``cost_fen``."""
    from civicvote.proposals.models import Proposal

    n = next(_counter)
    values = {
        "round_id": of_round.id,
        "title": f"项目{n}",
        "status": "approved",
        "total_fen": cost_fen,
        "category_code": "elderly",
    }
    values.update(fields)
    obj = Proposal(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def ballot(of_round: FundingRound | None = None, *, proposals=3, costs=None, **fields):
    """A ballot over ``proposals`` new approved proposals (or the given list); open by default."""
    from civicvote.ballots.models import Ballot, BallotItem

    of_round = of_round or funding_round(community())
    if isinstance(proposals, int):
        costs = costs or [1_000_000 * (i + 1) for i in range(proposals)]
        proposals = [proposal(of_round, cost_fen=cost) for cost in costs]
    values = {
        "round_id": of_round.id,
        "title": "居民投票",
        "method": "approval",
        "mode": "online",
        "status": "open",
        "min_choices": 1,
        "max_choices": None,
        # Quorum and pass threshold decide the result (docs/rules.md); a test of something else
        # asks for one voter and one supporter, and tests of those rules set their own.
        "quorum_kind": "minimum",
        "quorum_value": 1,
        "pass_threshold_percent": 0,
    }
    values.update(fields)
    obj = Ballot(**values)
    if obj.status != "draft":
        from civicvote.timeutil import utcnow

        obj.opened_at = utcnow()
    obj.items = [BallotItem(proposal_id=p.id, position=i) for i, p in enumerate(proposals)]
    db.session.add(obj)
    db.session.commit()
    return obj


def approval_and_knapsack(of_round: FundingRound):
    """Three community proposals (¥30,000, ¥50,000, ¥40,000, with summaries) and two open
    ballots over them: "居民议事会投票" (approval) and "预算投票" (knapsack, ¥80,000).
    Returns (proposals, approval, knapsack)."""
    titles = ["楼道加装扶手", "老年食堂助餐", "小区绿化改造"]
    proposals = [
        proposal(of_round, title=t, cost_fen=c, summary="为居民服务的项目")
        for t, c in zip(titles, (3_000_000, 5_000_000, 4_000_000), strict=True)
    ]
    approval = ballot(of_round, proposals=proposals, title="居民议事会投票")
    knapsack = ballot(
        of_round, proposals=proposals, title="预算投票", method="knapsack", budget_fen=8_000_000
    )
    return proposals, approval, knapsack


def credential(of_ballot, voter_key: str | None = None, **fields):
    """A credential for ``of_ballot``; returns (credential, token, short_code)."""
    from civicvote.registry.credentials import hash_secret, new_short_code, new_token
    from civicvote.registry.models import Credential

    token, short = new_token(), new_short_code()
    obj = Credential(
        ballot_id=of_ballot.id,
        voter_key=voter_key or f"h{next(_counter)}",
        token_hash=hash_secret(token),
        short_code_hash=hash_secret(short),
        **fields,
    )
    db.session.add(obj)
    db.session.commit()
    return obj, token, short


def check_in(of_ballot, voter_key: str):
    """Check ``voter_key`` in at an assembly of ``of_ballot`` (creating the assembly)."""
    from civicvote.checkin.models import Assembly, CheckIn
    from civicvote.timeutil import utcnow

    assembly = Assembly(ballot_id=of_ballot.id, title="议事会", place="会议室", starts_at=utcnow())
    db.session.add(assembly)
    db.session.flush()
    db.session.add(CheckIn(assembly_id=assembly.id, voter_key=voter_key))
    db.session.commit()
    return assembly


# --- Intake, organizations and proposals (issue 3) ---------------------------------------


def need(of: Community, funding_round: FundingRound, **fields):
    """A need in ``funding_round``; accepted unless told otherwise."""
    from civicvote.intake.models import Need
    from civicvote.intake.services import new_tracking_code

    values = {
        "community_id": of.id,
        "round_id": funding_round.id,
        "tracking_code": new_tracking_code(),
        "title": f"需求{next(_counter)}",
        "category_code": "elderly",
        "place": "3号楼",
        "status": "accepted",
        "support_count": 0,
    }
    values.update(fields)
    obj = Need(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def organization(**fields):
    from civicvote.organizations.models import APPROVED, Organization

    n = next(_counter)
    values = {
        "name": f"社工服务中心{n}",
        "registration_number": f"52320508MJ{n:07d}X",
        "contact_name": "陈晓",
        "contact_phone": "0512-65000000",
        "status": APPROVED,
    }
    values.update(fields)
    obj = Organization(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def org_member(org, of: Community, username: str | None = None) -> User:
    """An account of ``org`` with the org_member role in ``of``."""
    return user(username, roles=[(of, "org_member")], organization_id=org.id)


def draft(funding_round: FundingRound, member: User, needs=(), items=None, **fields):
    """A draft proposal saved through the service, as a member would."""
    from civicvote.proposals.drafts import save_draft

    data = {
        "title": "楼道扶手",
        "summary": "为3号楼加装扶手。",
        "category_code": "elderly",
        "beneficiaries_count": 120,
        "location": "3号楼",
    }
    data.update(fields)
    return save_draft(
        funding_round,
        member,
        data,
        items=items if items is not None else [("不锈钢扶手", "120", "米", "180")],
        need_ids=[n.id for n in needs],
    )


# --- What the database holds of the votes (issue 14) --------------------------------------


def stored_votes(ballot_id: int | None = None) -> list[tuple[dict, str]]:
    """(contents, receipt) of every vote stored: sealed in the ballot box while its ballot is
    open (opened here with the server key), in ``cast_ballots`` once the close moved them."""
    from civicvote.ballots.models import BallotBoxEntry, CastBallot
    from civicvote.extensions import db
    from civicvote.voting.sealing import open_contents

    query = db.select(BallotBoxEntry.ballot_id, BallotBoxEntry.sealed)
    cast = db.select(CastBallot.contents, CastBallot.receipt_code)
    if ballot_id is not None:
        query, cast = query.filter_by(ballot_id=ballot_id), cast.filter_by(ballot_id=ballot_id)
    votes = [open_contents(b, sealed) for b, sealed in db.session.execute(query)]
    return votes + [(contents, receipt) for contents, receipt in db.session.execute(cast)]


def stored_count(ballot_id: int | None = None) -> int:
    """How many votes the database holds, sealed or cast (counted without opening any)."""
    from civicvote.ballots.models import BallotBoxEntry, CastBallot
    from civicvote.extensions import db

    total = 0
    for model in (BallotBoxEntry, CastBallot):
        query = db.select(db.func.count()).select_from(model)
        if ballot_id is not None:
            query = query.where(model.ballot_id == ballot_id)
        total += db.session.scalar(query)
    return total
