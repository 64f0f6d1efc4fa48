"""The community page states the exact rule and completion before the vote (issue 19)."""

import pytest

from civicvote.extensions import db
from tests import factories


@pytest.mark.parametrize(
    ("rule", "completion", "zh", "absent"),
    [
        ("mes", "add1", ["均等份额法", "逐步", "add1"], ["按票数补足"]),
        ("mes", "add1+greedy", ["均等份额法", "add1", "票数"], ["改用"]),
        ("mes", "add1+greedy+compare", ["均等份额法", "add1", "改用"], []),
        ("mes", "none", ["均等份额法", "不再使用"], ["add1"]),
        ("greedy", "add1", ["按得票多少", "跳过"], ["均等份额法", "add1"]),
        ("greedy-no-skip", "add1", ["按得票多少", "就停止"], ["均等份额法", "add1"]),
    ],
)
def test_community_page_states_rule_and_completion(app, client, rule, completion, zh, absent):
    community = factories.community()
    funding_round = factories.funding_round(community)
    funding_round.allocation_rule, funding_round.mes_completion = rule, completion
    db.session.commit()
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    # The description sits in the round's facts, next to the rule's name.
    start = page.index('class="rule-description"')
    described = page[start : page.index("</dd>", start)]
    for words in zh:
        assert words in described, (words, described)
    for words in absent:
        assert words not in described, (words, described)


def test_english_description(app, client):
    community = factories.community()
    funding_round = factories.funding_round(community)
    funding_round.allocation_rule, funding_round.mes_completion = "mes", "add1+greedy"
    db.session.commit()
    page = client.get(f"/c/{community.slug}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "one yuan at a time (add1)" in text
    assert "the most votes" in text
