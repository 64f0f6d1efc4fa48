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
