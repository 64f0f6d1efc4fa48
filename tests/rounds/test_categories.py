"""Categories in plain Chinese: staff type names, the round makes the codes and keeps them."""

import pytest

from civicvote.errors import Conflict, DomainError
from civicvote.extensions import db
from civicvote.rounds import services
from civicvote.rounds.models import FundingRound
from tests import factories

RULES = {"budget_fen": 10_000_000, "per_project_cap_fen": None, "required_documents": []}


def test_names_alone_are_categories_and_old_lines_with_codes_still_work():
    assert services.parse_categories("为老服务\n\n 环境绿化 ") == [
        (None, "为老服务"),
        (None, "环境绿化"),
    ]
    assert services.parse_categories("elderly = 为老服务\n文体活动") == [
        ("elderly", "为老服务"),
        (None, "文体活动"),
    ]
    for bad in ("bad code = 名字", "为老服务\n为老服务", "长" * 61, "", "x = "):
        with pytest.raises(DomainError):
            services.parse_categories(bad)


def test_codes_are_made_unique_and_ascii():
    pairs = services.category_codes(
        [(None, "为老服务"), (None, "Greening 绿化"), (None, "greening"), ("sport", "体育")]
    )
    codes = [code for code, _ in pairs]
    assert codes[1:] == ["greening", "greening-2", "sport"]
    assert codes[0].startswith("cat-") and codes[0].isascii()
    assert services.CATEGORY_CODE.match(codes[0])
    # The same name gives the same code in another round (exports line up).
    assert services.category_codes([(None, "为老服务")])[0][0] == codes[0]


def _round(app) -> FundingRound:
    community = factories.community()
    return services.create_round(
        community,
        name="2027年度",
        year=2027,
        budget_fen=10_000_000,
        categories=services.parse_categories("为老服务\n环境绿化\n文体活动"),
    )


def test_a_round_made_from_names_keeps_its_codes_through_edits(app):
    funding_round = _round(app)
    before = {c.name: c.code for c in funding_round.categories}
    assert len(set(before.values())) == 3
    factories.need(funding_round.community, funding_round, category_code=before["环境绿化"])
    db.session.commit()
    # Renamed where it stands (环境绿化 → 绿化美化) and one added: the need's category keeps
    # its code; the others keep theirs; the new one gets a new code.
    services.update_rules(
        funding_round,
        categories=services.parse_categories("为老服务\n绿化美化\n文体活动\n邻里互助"),
        **RULES,
    )
    after = {c.name: c.code for c in funding_round.categories}
    assert after["为老服务"] == before["为老服务"]
    assert after["绿化美化"] == before["环境绿化"]
    assert after["文体活动"] == before["文体活动"]
    assert after["邻里互助"] not in before.values()
    # Reordered: still matched by name.
    services.update_rules(
        funding_round,
        categories=services.parse_categories("邻里互助\n文体活动\n绿化美化\n为老服务"),
        **RULES,
    )
    assert {c.name: c.code for c in funding_round.categories} == after
    # A category in use cannot be dropped by leaving its line out.
    with pytest.raises(Conflict):
        services.update_rules(
            funding_round, categories=services.parse_categories("为老服务"), **RULES
        )


def test_the_settings_page_takes_names_and_shows_no_codes(client):
    community = factories.community()
    factories.user("organizer", roles=[(community, "organizer")])
    factories.login(client, "organizer")
    base = f"/console/c/{community.slug}/rounds"
    page = client.get(f"{base}/new").get_data(as_text=True)
    form = {
        "csrf_token": factories.csrf_token(page),
        "name": "2027年度社区微基金",
        "year": "2027",
        "budget": "20万",
        "categories": "为老服务\n环境绿化",
    }
    assert client.post(f"{base}/new", data=form).status_code == 302
    funding_round = db.session.scalar(db.select(FundingRound))
    assert funding_round.budget_fen == 20_000_000
    assert [c.name for c in funding_round.categories] == ["为老服务", "环境绿化"]
    settings = client.get(f"{base}/{funding_round.id}").get_data(as_text=True)
    codes = funding_round.category_codes()
    textarea = settings.split('name="categories"', 1)[1].split("</textarea>", 1)[0]
    assert "为老服务" in textarea and not any(code in textarea for code in codes)
