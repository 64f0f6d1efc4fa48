"""A TV cannot scroll: the board splits long lists into pages that take turns, caps the funded
list with a line saying how many there are and where all of them are, and shortens very long
titles to two lines (the browser test tests/browser/test_board_fit.py checks that it all fits)."""

import re

import pytest

from civicvote.board import services as board
from civicvote.extensions import db
from civicvote.results.models import AllocationRun, ProjectAllocation
from tests import factories

LONG = (
    "为1-6号楼共24个单元加装不锈钢扶手，"
    "含设计、施工、验收与两年维护，由居委会和业委会共同监督实施并按月公示进度"
)


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    monkeypatch.setattr(board, "CACHE_SECONDS", 0)
    board._cache.clear()


def _nine_funded():
    """A closed ballot of nine proposals (the first with a long title), all funded."""
    ballot = factories.ballot(proposals=9, status="closed", results_visible_live=True)
    ballot.items[0].proposal.title = LONG
    source = ballot.round.fund_sources[0]
    run = AllocationRun(
        round_id=ballot.round_id,
        ballot_id=ballot.id,
        rule="greedy",
        tie_break="cost",
        status="provisional",
    )
    run.projects = [
        ProjectAllocation(
            proposal_id=item.proposal_id,
            rank=n + 1,
            votes=0,
            funded=True,
            amount_fen=item.proposal.total_fen,
            funding_by_source={str(source.id): item.proposal.total_fen},
        )
        for n, item in enumerate(ballot.items)
    ]
    db.session.add(run)
    db.session.commit()
    return ballot.round.community


@pytest.mark.parametrize("layout", ["landscape", "portrait"])
def test_long_lists_are_split_and_capped(client, layout):
    place = _nine_funded()
    page = client.get(f"/c/{place.slug}/board?layout={layout}").get_data(as_text=True)
    # Nine results: two pages of at most five, shown in turn by board.js.
    assert page.count('class="result-page"') == 2
    first = re.search(r'data-page="1"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert first.count('class="bar-row') == 5
    # The funded list shows four, and says there are nine and where to find them all.
    funded = re.search(r'<ol class="funded-list">(.*?)</ol>', page, re.S).group(1)
    assert funded.count("<li>") == 4
    assert "共 9 个项目获得资助，这里只列出前 4 个，全部项目请看结果页。" in page
    en = client.get(
        f"/c/{place.slug}/board?layout={layout}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "9 funded projects, the first 4 shown here; all of them are on the results page." in en
    # The long title is cut to 40 characters (two lines of the results panel).
    labels = re.findall(r'<span class="bar-label">(.*?)</span>', page)
    assert LONG not in labels and LONG[:39] + "…" in labels
    assert max(len(label) for label in labels) <= 40
