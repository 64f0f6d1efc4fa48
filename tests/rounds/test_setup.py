"""Setting up: communities (administrator), rounds, how votes are counted, fund sources."""

import pytest

from civicvote.accounts.models import CLERK, ORGANIZER
from civicvote.audit.models import AuditEvent
from civicvote.ballots.lifecycle import change_status
from civicvote.communities.models import Community
from civicvote.communities.services import create_community
from civicvote.errors import Conflict, DomainError
from civicvote.extensions import db
from civicvote.results.services import run_allocation
from civicvote.rounds import services
from civicvote.rounds.models import FundingRound, FundSource
from civicvote.voting.casting import cast_vote
from tests import factories

CATEGORIES = [("elderly", "为老服务"), ("greening", "环境绿化")]


def source_fields(**fields) -> dict:
    values = {
        "name": "幸福里社区基金会",
        "kind": "restricted",
        "amount_fen": 3_000_000,
        "categories": ["elderly"],
        "per_project_cap_fen": None,
        "match_ratio_percent": None,
        "donor": "幸福里社区基金会",
        "public": True,
    }
    values.update(fields)
    return values


def actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))


def new_round(community=None, **fields) -> FundingRound:
    values = {"name": "2027年度", "year": 2027, "budget_fen": 10_000_000}
    values.update(fields)
    return services.create_round(
        community or factories.community(), categories=CATEGORIES, **values
    )


# --- services ------------------------------------------------------------------------------


def test_a_community_is_created_once_with_a_well_formed_slug(app):
    community = create_community("xinhe", "新河社区", district="姑苏区")
    assert community.id and actions() == ["community.create"]
    for bad in ("X", "a", "-xinhe", "xin he", "新河", "a" * 41):
        with pytest.raises(DomainError):
            create_community(bad, "坏")
    with pytest.raises(Conflict):
        create_community("xinhe", "另一个新河")
    assert db.session.scalar(db.select(db.func.count()).select_from(Community)) == 1


def test_a_new_round_collects_needs_with_one_general_fund(app):
    funding_round = new_round(fund_name="为民服务专项资金")
    assert funding_round.phase == "intake"
    assert funding_round.category_codes() == ["elderly", "greening"]
    [fund] = funding_round.fund_sources
    assert (fund.name, fund.kind, fund.amount_fen) == ("为民服务专项资金", "general", 10_000_000)
    assert actions() == ["round.create"]


def test_one_round_runs_at_a_time(app):
    community = factories.community()
    first = new_round(community)
    with pytest.raises(Conflict):
        new_round(community, name="又一个")
    first.phase = "closed"
    db.session.commit()
    assert new_round(community, name="2028年度", year=2028).phase == "intake"


@pytest.mark.parametrize("fields", [{"year": 1999}, {"year": 2101}, {"budget_fen": 0}])
def test_a_round_needs_a_sensible_year_and_budget(app, fields):
    with pytest.raises(DomainError):
        new_round(**fields)
    assert db.session.scalar(db.select(db.func.count()).select_from(FundingRound)) == 0


def counting(**fields) -> dict:
    values = {
        "allocation_rule": "mes",
        "tie_break": "lot",
        "notice_days": 10,
        "vote_unit": "resident",
        "mes_completion": "add1+greedy",
    }
    values.update(fields)
    return values


@pytest.mark.parametrize("used_by", ["need", "proposal"])
def test_a_category_in_use_stays(app, used_by):
    """Rounds cannot import needs or proposals; both areas tell rounds which categories they use."""
    community = factories.community()
    funding_round = new_round(community)
    if used_by == "need":
        factories.need(community, funding_round, category_code="greening")
    else:
        factories.proposal(funding_round, category_code="greening")
    rules = {"budget_fen": 10_000_000, "per_project_cap_fen": None, "required_documents": []}
    with pytest.raises(Conflict):
        services.update_rules(funding_round, categories=[("elderly", "为老服务")], **rules)
    db.session.rollback()
    services.update_rules(funding_round, categories=[("greening", "绿化")], **rules)
    assert funding_round.category_codes() == ["greening"]


def test_counting_rules_change_until_voting_starts(app):
    funding_round = new_round()
    services.update_counting(funding_round, **counting())
    assert (funding_round.allocation_rule, funding_round.tie_break) == ("mes", "lot")
    assert (funding_round.notice_days, funding_round.vote_unit) == (10, "resident")
    assert funding_round.mes_completion == "add1+greedy"
    bad = [
        {"mes_completion": "add2"},
        {"allocation_rule": "dictator"},
        {"tie_break": "coin"},
        {"vote_unit": "building"},
        {"allocation_rule": "greedy-threshold"},  # every rule applies the ballot's threshold
        {"notice_days": 0},
        {"notice_days": 61},
    ]
    for fields in bad:
        with pytest.raises(DomainError):
            services.update_counting(funding_round, **counting(**fields))
    funding_round.phase = "ballot"
    db.session.commit()
    with pytest.raises(Conflict):
        services.update_counting(funding_round, **counting(allocation_rule="greedy"))
    db.session.refresh(funding_round)
    assert funding_round.allocation_rule == "mes"
    assert actions() == ["round.create", "round.counting"]


def test_the_vote_unit_stays_once_a_ballot_exists(app):
    funding_round = factories.funding_round(factories.community())
    factories.ballot(funding_round, status="draft")
    with pytest.raises(Conflict):
        services.update_counting(funding_round, **counting(vote_unit="resident"))
    services.update_counting(funding_round, **counting(vote_unit="household"))


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "general", "categories": ["elderly"]},  # general pays anything
        {"kind": "restricted", "categories": [], "per_project_cap_fen": None},  # no limit
        {"categories": ["unknown"]},
        {"per_project_cap_fen": 3_000_001},  # cap above the amount
        {"amount_fen": 0},
        {"kind": "matching", "match_ratio_percent": None},
        {"kind": "matching", "match_ratio_percent": 1001},
        {"kind": "restricted", "match_ratio_percent": 100},
        {"kind": "treasure"},
    ],
)
def test_fund_sources_the_allocation_could_not_honour_are_refused(app, fields):
    funding_round = new_round()
    with pytest.raises(DomainError):
        services.add_source(funding_round, **source_fields(**fields))
    db.session.rollback()
    assert len(funding_round.fund_sources) == 1


def test_matching_donors_share_one_ratio(app):
    funding_round = new_round()
    matching = source_fields(kind="matching", categories=[], match_ratio_percent=100)
    services.add_source(funding_round, **matching)
    with pytest.raises(DomainError):
        services.add_source(funding_round, **{**matching, "match_ratio_percent": 50})
    db.session.rollback()
    # The only matching donor may change its own ratio.
    source = funding_round.fund_sources[-1]
    services.update_source(source, **{**matching, "match_ratio_percent": 50})
    assert source.match_ratio_percent == 50


def test_sources_are_added_edited_and_removed_until_the_allocation(app):
    funding_round = new_round()
    general = funding_round.fund_sources[0]
    restricted = services.add_source(funding_round, **source_fields())
    services.update_source(restricted, **source_fields(per_project_cap_fen=1_000_000))
    assert restricted.per_project_cap_fen == 1_000_000
    services.remove_source(restricted)
    with pytest.raises(Conflict):
        services.remove_source(general)  # the last one
    funding_round.phase = "ballot"  # money can still be confirmed while people vote
    db.session.commit()
    restricted = services.add_source(funding_round, **source_fields())
    funding_round.phase = "allocation"
    db.session.commit()
    with pytest.raises(Conflict):
        services.add_source(funding_round, **source_fields())
    with pytest.raises(Conflict):
        services.update_source(restricted, **source_fields(amount_fen=1))
    with pytest.raises(Conflict):
        services.remove_source(restricted)
    db.session.rollback()
    assert [s.amount_fen for s in funding_round.fund_sources] == [10_000_000, 3_000_000]
    assert actions() == [
        "round.create",
        "fund_source.add",
        "fund_source.update",
        "fund_source.remove",
        "fund_source.add",
    ]


def test_a_round_set_up_this_way_allocates_through_its_sources(app):
    """General ¥20,000 + elderly-only ¥30,000 + a matching donor: the flow uses all three."""
    funding_round = new_round(budget_fen=2_000_000)
    services.add_source(funding_round, **source_fields())
    services.add_source(
        funding_round,
        **source_fields(
            name="共建单位配捐", kind="matching", categories=[], match_ratio_percent=100
        ),
    )
    services.update_counting(funding_round, **counting(allocation_rule="greedy"))
    elderly = factories.proposal(funding_round, cost_fen=4_000_000, category_code="elderly")
    greening = factories.proposal(funding_round, cost_fen=2_000_000, category_code="greening")
    ballot = factories.ballot(funding_round, proposals=[elderly, greening])
    for n in range(3):
        _credential, token, _ = factories.credential(ballot, f"h{n}")
        cast_vote(ballot.id, token, {"selections": [elderly.id] + ([greening.id] if n else [])})
    change_status(ballot.id, "close", actor=None)
    funding_round.tie_break = "lexico"
    run = run_allocation(funding_round, ballot, actor=None)
    funded = {p.proposal_id: p for p in run.projects if p.funded}
    # ¥40,000 elderly: ¥30,000 restricted + matching; greening ¥20,000 from the general fund
    # and the matching donor (at most half of each project).
    assert set(funded) == {elderly.id, greening.id}
    by_name = {str(s.id): s.name for s in funding_round.fund_sources}
    spent = {}
    for project in funded.values():
        for source_id, amount in project.funding_by_source.items():
            spent[by_name[source_id]] = spent.get(by_name[source_id], 0) + amount
    assert sum(spent.values()) == 6_000_000
    assert spent["幸福里社区基金会"] <= 3_000_000 and spent["2027年度"] <= 2_000_000


# --- through HTTP --------------------------------------------------------------------------


def test_only_administrators_manage_communities(client):
    factories.user("boss", is_admin=True)
    community = factories.community()
    factories.user("organizer", roles=[(community, ORGANIZER)])
    factories.login(client, "organizer")
    assert client.get("/admin/communities").status_code == 403
    client.get("/logout")
    factories.login(client, "boss")
    page = client.get("/admin/communities").get_data(as_text=True)
    token = factories.csrf_token(page)
    form = {"csrf_token": token, "name": "新河社区", "slug": "xinhe", "district": "姑苏区"}
    assert client.post("/admin/communities", data={**form, "csrf_token": ""}).status_code == 400
    refused = client.post("/admin/communities", data={**form, "slug": "Xin He"})
    assert refused.status_code == 422 and "fengqiao" in refused.get_data(as_text=True)
    created = client.post("/admin/communities", data=form)
    assert created.status_code == 302
    assert db.session.scalar(db.select(Community).filter_by(slug="xinhe")).name == "新河社区"
    page = client.get("/admin/communities/xinhe").get_data(as_text=True)
    token = factories.csrf_token(page)
    edit = {"csrf_token": token, "name": "新河社区（东）", "district": "姑苏区"}
    assert client.post("/admin/communities/xinhe", data=edit).status_code == 302
    assert db.session.scalar(db.select(Community).filter_by(slug="xinhe")).name == "新河社区（东）"
    assert client.post("/admin/communities/nowhere", data=edit).status_code == 404


def test_an_organizer_starts_a_round_and_sets_it_up(client):
    community = factories.community()
    factories.user("organizer", roles=[(community, ORGANIZER)])
    factories.user("clerk", roles=[(community, CLERK)])
    base = f"/console/c/{community.slug}"
    factories.login(client, "clerk")
    assert client.get(f"{base}/rounds/new").status_code == 403
    client.get("/logout")
    factories.login(client, "organizer")
    console = client.get(base).get_data(as_text=True)
    assert f"{base}/rounds/new" in console
    page = client.get(f"{base}/rounds/new").get_data(as_text=True)
    form = {
        "csrf_token": factories.csrf_token(page),
        "name": "2027年度社区微基金",
        "year": "2027",
        "budget": "二十万",  # as people say it; the shorthand below is refused
        "fund_name": "为民服务专项资金",
        "categories": "elderly = 为老服务\ngreening = 环境绿化",
    }
    bad = client.post(f"{base}/rounds/new", data={**form, "budget": "二十万五"})
    assert bad.status_code == 422 and "1200" in bad.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(FundingRound)) == 0
    created = client.post(f"{base}/rounds/new", data=form)
    assert created.status_code == 302
    funding_round = db.session.scalar(db.select(FundingRound))
    assert created.headers["Location"].endswith(f"{base}/rounds/{funding_round.id}")
    assert funding_round.budget_fen == 20_000_000
    settings = f"{base}/rounds/{funding_round.id}"
    page = client.get(settings).get_data(as_text=True)
    token = factories.csrf_token(page)

    counting_form = {
        "csrf_token": token,
        "allocation_rule": "greedy-threshold",
        "tie_break": "cost",
        "notice_days": "7",
        "vote_unit": "household",
    }
    refused = client.post(f"{settings}/counting", data=counting_form)
    assert refused.status_code == 422  # no second threshold: the ballot's applies to every rule
    counting_form["allocation_rule"] = "greedy"
    assert client.post(f"{settings}/counting", data=counting_form).status_code == 302
    db.session.refresh(funding_round)
    assert funding_round.allocation_rule == "greedy"

    source = {
        "csrf_token": token,
        "name": "幸福里社区基金会",
        "kind": "restricted",
        "amount": "30000",
        "categories": ["elderly"],
        "cap": "",
        "match_ratio_percent": "",
        "donor": "幸福里社区基金会",
        "public": "y",
    }
    assert client.post(f"{settings}/sources", data={**source, "amount": "-5"}).status_code == 422
    assert client.post(f"{settings}/sources", data={**source, "categories": []}).status_code == 422
    assert client.post(f"{settings}/sources", data=source).status_code == 302
    db.session.refresh(funding_round)
    added = funding_round.fund_sources[-1]
    assert (added.amount_fen, added.categories, added.public) == (3_000_000, ["elderly"], True)
    edit_url = f"{settings}/sources/{added.id}"
    assert "30000.00" in client.get(edit_url).get_data(as_text=True)
    edited = client.post(edit_url, data={**source, "cap": "15000", "public": ""})
    assert edited.status_code == 302
    db.session.refresh(added)
    assert (added.per_project_cap_fen, added.public) == (1_500_000, False)
    page = client.get(settings).get_data(as_text=True)
    assert "幸福里社区基金会" in page and "¥230,000.00" in page

    other = factories.funding_round(factories.community())
    foreign = other.fund_sources[0].id
    assert client.get(f"{settings}/sources/{foreign}").status_code == 404
    assert client.post(f"{edit_url}/remove", data={"csrf_token": token}).status_code == 302
    general = funding_round.fund_sources[0].id
    last = client.post(f"{settings}/sources/{general}/remove", data={"csrf_token": token})
    assert last.status_code == 409
    assert db.session.get(FundSource, general) is not None


def test_settled_settings_are_shown_not_offered(client):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="allocation")
    factories.user("organizer", roles=[(community, ORGANIZER)])
    factories.login(client, "organizer")
    settings = f"/console/c/{community.slug}/rounds/{funding_round.id}"
    page = client.get(settings).get_data(as_text=True)
    assert f'action="{settings}/counting"' not in page
    assert f'action="{settings}/sources"' not in page
    token = factories.csrf_token(page)
    form = {
        "csrf_token": token,
        "allocation_rule": "mes",
        "tie_break": "cost",
        "notice_days": "7",
        "vote_unit": "household",
    }
    assert client.post(f"{settings}/counting", data=form).status_code == 409
    db.session.refresh(funding_round)
    assert funding_round.allocation_rule == "greedy"
