"""No page has two elements with the same id, and every label points at one element.

A duplicate id makes a label (or an error message linked by aria-describedby) point at the
wrong field: tapping "上限" focused another form's cap. axe reports it as a minor issue only,
so the accessibility test, which fails on serious and critical ones, lets it pass; this test
does not. It loads every page (GET route) of the app, with each of its arguments taken from
the fuzz test's world of one of everything, as an administrator, plus the resident's ballot
page of every voting method.
"""

import itertools
from collections import Counter
from html.parser import HTMLParser

from civicvote.extensions import db
from civicvote.rounds.models import FundingRound
from tests import factories
from tests.faults.test_every_form import ARGUMENT, PAGES, world  # noqa: F401 (a fixture)

# Pages that are not HTML, or that answer for something else than a page of ours.
NOT_PAGES = ("/api/", "/static/", "/uploads/", "/healthz", ".pb", ".csv", ".json", ".svg")
MOST_PER_ROUTE = 6  # argument combinations tried per route


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()
        self.label_targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids[attributes["id"]] += 1
        if tag == "label" and attributes.get("for"):
            self.label_targets.append(attributes["for"])


def problems(html: str) -> list[str]:
    """The ids used more than once, and label targets that name no element."""
    parser = _Ids()
    parser.feed(html)
    found = [f"id {name!r} ×{n}" for name, n in parser.ids.items() if n > 1]
    found += [f"label for {t!r} names nothing" for t in parser.label_targets if t not in parser.ids]
    return found


def _addresses(rule: str, ids: dict) -> list[str]:
    names = ARGUMENT.findall(rule)
    if any(name not in ids for name in names):
        return []
    combos = itertools.islice(itertools.product(*(ids[name] for name in names)), MOST_PER_ROUTE)
    addresses = []
    for combo in combos:
        values = iter(combo)
        addresses.append(ARGUMENT.sub(lambda _match, v=values: str(next(v)), rule))
    return addresses


def _html(response) -> str | None:
    if response.status_code != 200 or response.mimetype != "text/html":
        return None
    return response.get_data(as_text=True)


def test_no_page_has_a_duplicate_id(client, world):  # noqa: F811 (the imported fixture)
    found: dict[str, list[str]] = {}
    pages = 0
    for rule, _methods in PAGES:
        if any(part in rule for part in NOT_PAGES):
            continue
        for path in _addresses(rule, world["ids"]):
            html = _html(client.get(path))
            if html is not None:
                pages += 1
                if trouble := problems(html):
                    found[path] = trouble
    assert pages > 60, pages  # the walk reached the pages, not only refusals
    assert not found, found


def test_the_ballot_page_of_every_method_has_unique_ids(client, world):  # noqa: F811
    funding_round = db.session.get(FundingRound, world["ids"]["round_id"][0])
    for method, extra in (
        ("approval", {}),
        ("knapsack", {"budget_fen": 10_000_000}),
        ("cumulative", {"points_total": 5}),
        ("yes_no", {}),
    ):
        ballot = factories.ballot(funding_round, proposals=2, method=method, **extra)
        _credential, token, _code = factories.credential(ballot)
        db.session.commit()
        assert client.get(f"/v/{token}").status_code == 302
        page = client.get(f"/ballots/{ballot.id}/vote")
        html = _html(page)
        assert html is not None and 'name="csrf_token"' in html, method
        assert not problems(html), (method, problems(html))
