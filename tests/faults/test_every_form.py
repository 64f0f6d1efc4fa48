"""Garbage into every form and page of the app: never a 5xx, and a refused post stores nothing.

Every POST route is read from the app's URL map, so a form is covered the day its route is
added. Hypothesis fills each with forms of its own: the field names its pages show (and stray
ones), any text, numbers far out of range, repeated values, empty strings and random files,
posted by an administrator who also belongs to an organization (so every form is open to the
account) with a valid CSRF token, or now and then a wrong one. The ids in the URL point at
real objects of a world that has one of everything, or now and then at none. No answer may be
a 5xx, and an answer of 4xx leaves every table's row count as it was. Every page (GET route)
gets the same treatment in its path and query string. NUL bytes and other control characters
are among the values. Runs on SQLite and PostgreSQL.
"""

import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from civicvote import create_app
from civicvote.audit.services import record
from civicvote.extensions import db
from civicvote.reports.services import EXPORTS
from civicvote.voting import paper, paper_sheets
from tests import factories
from tests.api.seed import public_data

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

MISSING = 10**9  # an id of nothing

# Refusals that are recorded on purpose: a refused organizer action (a paper ballot that does
# not count, say) is an audit event.
RECORDED_WHEN_REFUSED = {"audit_events"}


def _rules(method: str) -> list:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "routes"})
    return sorted(
        (rule.rule, rule.methods)
        for rule in app.url_map.iter_rules()
        if method in rule.methods and rule.endpoint != "static"
    )


RULES = _rules("POST")
PAGES = _rules("GET")
# The query parameters views read (request.args), besides any name at all.
QUERY = [
    *("status", "q", "next", "code", "need", "place", "page", "new", "layout", "community"),
    *("category", "ballot", "round", "lang", "format"),
]
ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
FIELD = re.compile(r'<(input|select|textarea)\b[^>]*\bname="([^"]+)"[^>]*>')

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
# NUL and other control characters, which PostgreSQL refuses in text (a 500 once).
controlled = st.tuples(text, st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85"]), text)
value = st.one_of(
    text,
    controlled.map("".join),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        ["", "0", "-1", "1e999", "NaN", "Infinity", "１２", "1,5", "2026-02-30", "on", "y"]
    ),
    st.sampled_from(["\x00", "a\x00b", "1\x00", "\x00" * 50]),
    st.just("长" * 6000),
)


@pytest.fixture
def world(app, client):
    """One of everything, an administrator logged in, and the ids URLs may point at."""
    data = public_data()
    place, funding_round = data["community"], data["round"]
    early = factories.funding_round(place, phase="costing", name="下一年度", year=2027)
    organization = factories.organization()
    early_draft = factories.proposal(
        early, status="draft", title="早期草稿", organization_id=organization.id
    )
    draft_ballot = factories.ballot(early, proposals=2, status="draft")
    assembly = factories.assembly(data["live"])
    households = factories.registry(place, buildings=1, rooms=2, per_room=1)
    member = factories.org_member(organization, place)
    # Every community role (an administrator) and an organization's (its proposals' forms).
    factories.user("root", is_admin=True, organization_id=organization.id)
    factories.login(client, "root")
    token = factories.csrf_token(client.get("/console").get_data(as_text=True))
    entry = record("need.accept", "need", data["need"].id, community_id=place.id, public=True)
    db.session.commit()
    batch, disputed = _paper(data["live"], households[0].residents[0], place)
    ids = {
        "slug": [place.slug],
        "round_id": [funding_round.id, early.id],
        "ballot_id": [
            b.id
            for b in (data["live"], data["hidden"], data["closed"], draft_ballot, data["yes_no"])
        ],
        "need_id": [data["need"].id, data["declined"].id],
        "proposal_id": [data["project"].id, data["draft"].id, early_draft.id],
        "assembly_id": [assembly.id],
        "organization_id": [organization.id],
        "resident_id": [households[0].residents[0].id],
        "source_id": [funding_round.fund_sources[0].id],
        "user_id": [member.id],
        "community_id": [place.id],
        "event_id": [entry.id],
        "code": [*data["receipts"], "zh_Hans", "en"],
        "token": [factories.credential(data["live"])[1]],
        "table": sorted(EXPORTS),
        "fmt": ["csv", "json"],
        "name": ["photo.jpg"],
        "batch_id": [batch.id],
        # A walk-in's code page: the first walk-in's id, or none yet (its page answers 404).
        "walk_in_id": [1],
        "number": [disputed, *paper_sheets.batch_numbers(batch)],
    }
    return {"ids": ids, "token": token, "fields": {}}


def _paper(ballot, resident, place):
    """A batch of paper ballot sheets, one of them disputed (two clerks entered it apart)."""
    clerks = [factories.user(f"paper-clerk{n}", roles=[(place, "clerk")]) for n in (1, 2)]
    batch = paper_sheets.print_sheets(ballot, 3, "fuzz", actor=clerks[0]).batch
    number = paper_sheets.batch_numbers(batch)[0]
    paper.hand_over(ballot.id, resident.id, clerk=clerks[0])
    for clerk, item in zip(clerks, ballot.items, strict=False):
        paper.enter_sheet(ballot.id, number, {"selections": [item.proposal_id]}, clerk=clerk)
    return batch, number


def _row_counts() -> dict:
    tables = [t for t in db.metadata.sorted_tables if t.name not in RECORDED_WHEN_REFUSED]
    counts = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    row = db.session.execute(counts).one()
    db.session.rollback()  # no snapshot or lock held while the app writes
    return dict(row._mapping)


def _fields(client, world, path: str, methods) -> tuple[set[str], set[str]]:
    """Field names on the route's own page and on the page one level up (where the forms of
    POST-only routes are); then the names of file inputs among them."""
    if path not in world["fields"]:
        pages = [path.rsplit("/", 1)[0] or "/"] + ([path] if "GET" in methods else [])
        names, files = set(), set()
        for page in pages:
            html = client.get(page).get_data(as_text=True)
            for tag in FIELD.finditer(html):
                names.add(tag.group(2))
                if 'type="file"' in tag.group(0):
                    files.add(tag.group(2))
        world["fields"][path] = (names, files)
    return world["fields"][path]


def _now_and_then(data) -> bool:
    """True once in a while (hypothesis draws its smallest values, here False, most often)."""
    return data.draw(st.integers(0, 5)) == 5


def _pick(data, candidates: list) -> str:
    """Mostly a real object's id (or slug); now and then one that names nothing."""
    if _now_and_then(data):
        return "no-such-thing" if isinstance(candidates[0], str) else str(MISSING)
    return str(data.draw(st.sampled_from(candidates)))


def _address(data, world, rule: str) -> str:
    """The rule with each of its arguments drawn by ``_pick``."""
    return ARGUMENT.sub(lambda match: _pick(data, world["ids"][match.group(1)]), rule)


def _garbage(names, most: int):
    """Fields (or query parameters) named from ``names`` or anyhow, with garbage values."""
    keys = st.one_of(st.sampled_from(sorted(names)), text.filter(bool)) if names else text
    return st.dictionaries(keys, st.one_of(value, st.lists(value, max_size=3)), max_size=most)


def _fuzz(examples: int):
    # The world is built once per test, not per example, on purpose (it is the slow part).
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.mark.parametrize("rule,methods", RULES, ids=[rule for rule, _ in RULES])
@_fuzz(12)
@given(data=st.data())
def test_garbage_gets_a_4xx_or_is_taken_and_a_refusal_stores_nothing(
    client, world, rule, methods, data
):
    path = _address(data, world, rule)
    names, files = _fields(client, world, path, methods)
    form = data.draw(_garbage(names, 12))
    for name in files & form.keys():
        content = data.draw(st.binary(max_size=2000))
        form[name] = (io.BytesIO(content), data.draw(text) or "upload")
    if not _now_and_then(data):  # a valid CSRF token, or now and then a wrong one
        form.update({name: world["token"] for name in names if name.endswith("csrf_token")})
        form["csrf_token"] = world["token"]
    before = _row_counts()
    response = client.post(path, data=form)
    assert response.status_code < 500, (path, response.get_data(as_text=True)[:500])
    if 400 <= response.status_code < 500:
        assert _row_counts() == before, (path, response.status_code)


@_fuzz(6)
@given(data=st.data())
def test_no_page_answers_garbage_in_its_address_with_a_5xx(client, world, data):
    for rule, _methods in PAGES:
        path = _address(data, world, rule)
        query = data.draw(_garbage(QUERY, 6), label=path)
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, response.get_data(as_text=True)[:500])
