"""Builders for test data: small functions with sensible defaults, overridable by keyword."""

import itertools
import re

from civicvote.accounts.models import Membership, User
from civicvote.communities.models import Community
from civicvote.extensions import db
from civicvote.rounds.models import FundingRound, FundSource, RoundCategory

_counter = itertools.count(1)
PASSWORD = "correct horse battery"  # noqa: S105


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
    from civicvote.proposals.services import save_draft

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
