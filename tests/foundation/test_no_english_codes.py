"""Chinese pages carry no English codes.

Every page of the app (read from the URL map, as the fuzz test does) is rendered in zh_Hans for
a resident and for each staff role of the demo district, with one of everything besides (a
funded project, closed and live ballots, and an audit entry for every action the log knows).
The visible text (tags, scripts, styles and URLs stripped; the text of alt, title, aria-label
and placeholder attributes kept, since screen readers read it) may hold no audit action code,
no database table name, no code of a labelled value (a status, a phase, a rule...) and no
``snake_case`` or ``dotted.code`` token. Only real things are allowed: file names, and the
world's own data (usernames and web addresses that people chose).
"""

import ast
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import civicvote
from civicvote import create_app
from civicvote.accounts.models import (
    CLERK,
    ORG_MEMBER,
    ORGANIZER,
    REVIEWER,
    SUPERVISOR,
    Membership,
    User,
)
from civicvote.audit.actions import SENTENCES
from civicvote.audit.services import record
from civicvote.ballots.models import Ballot
from civicvote.checkin.models import Assembly
from civicvote.communities.models import Community
from civicvote.demo import DEMO_PASSWORD, load_demo
from civicvote.extensions import db
from civicvote.intake.models import Need
from civicvote.organizations.models import Organization
from civicvote.proposals.models import Proposal
from civicvote.registry.models import Resident
from civicvote.rounds.models import FundingRound, FundSource
from tests import factories
from tests.api.seed import public_data

STAFF = ["admin", "organizer", "reviewer", "supervisor", "clerk", "org"]
ROLES = {
    "organizer": ORGANIZER,
    "reviewer": REVIEWER,
    "supervisor": SUPERVISOR,
    "clerk": CLERK,
    "org": ORG_MEMBER,
}
# Pages that are not HTML for people (JSON, files, open data) or that change the visitor's
# language; the exports' headers have their own tests (tests/reports/test_export_headers.py).
SKIP = re.compile(r"^/api/|\.json$|\.pem$|\.pb$|/export/|^/lang/|^/uploads/|^/healthz")
ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
MOST_PER_RULE = 4  # address variants per rule (each argument's candidates, combined)

URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|(?<![\w.])/[\w\-./?=&%#]*")
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*")
SNAKE = re.compile(r"^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+$")
DOTTED = re.compile(r"^[a-z_]+(?:\.[a-z_]+)+$")
FILE_EXTENSIONS = {"pdf", "csv", "json", "pb", "pem", "sig", "jpg", "jpeg", "png", "txt", "xlsx"}
SPOKEN_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}


def _label_codes() -> set[str]:
    """The codes of every labelled value (statuses, phases, rules, roles, channels...)."""
    from civicvote.accounts.forms import ROLE_LABELS
    from civicvote.ballots import forms as ballot_forms
    from civicvote.ballots import models as ballot_models
    from civicvote.intake import models as intake_models
    from civicvote.proposals import models as proposal_models
    from civicvote.proposals.review import DECISION_LABELS
    from civicvote.registry.services import RESIDENCE_LABELS
    from civicvote.rounds import models as round_models

    vocabularies = [
        ROLE_LABELS,
        DECISION_LABELS,
        RESIDENCE_LABELS,
        ballot_models.METHOD_LABELS,
        ballot_models.STATUS_LABELS,
        ballot_models.QUORUM_DECISION_LABELS,
        ballot_forms.MODE_LABELS,
        ballot_forms.QUORUM_LABELS,
        intake_models.CHANNEL_LABELS,
        intake_models.NEED_STATUS_LABELS,
        proposal_models.STATUS_LABELS,
        round_models.PHASE_LABELS,
        round_models.SOURCE_KIND_LABELS,
        round_models.VOTE_UNIT_LABELS,
        round_models.RULE_LABELS,
        round_models.TIE_LABELS,
        round_models.COMPLETION_LABELS,
    ]
    return {code for labels in vocabularies for code in labels if isinstance(code, str)}


class _VisibleText(HTMLParser):
    """The text a reader sees or hears: no tags, scripts, styles or other attributes."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The page's visible (and spoken) text with URLs and e-mail addresses taken out."""
    parser = _VisibleText()
    parser.feed(html)
    return URL.sub(" ", " ".join(parser.parts))


def english_codes(text: str, *, codes: set[str], tables: set[str], allowed: set[str]) -> set:
    """The tokens of ``text`` that are codes rather than words a reader should see."""
    found = set()
    for token in TOKEN.findall(text):
        token = token.strip(".-")
        if not token or token in allowed:
            continue
        head, _dot, extension = token.rpartition(".")
        if head and extension.lower() in FILE_EXTENSIONS:
            continue  # a file's name (a document, the key, an export): a real thing
        if (
            token in codes
            or token in tables
            or SNAKE.match(token)
            or DOTTED.match(token)
            or any(part in codes | tables for part in token.split("."))
        ):
            found.add(token)
    return found


# --------------------------------------------------------------------------- the world


def _demo_world(app) -> dict:
    """The demo district, one of everything besides, staff in both communities, and an audit
    entry (public) for every action, about a real object of its kind."""
    load_demo()
    data = public_data()
    demo = db.session.scalar(db.select(Community).filter_by(slug="xingfuli"))
    other = data["community"]
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    for username, role in ROLES.items():
        db.session.add(Membership(user_id=users[username].id, community_id=other.id, role=role))
    org = db.session.scalar(db.select(Organization).order_by(Organization.id))
    db.session.commit()
    assembly = factories.assembly(data["live"])
    objects = _objects(demo, other, data, assembly)
    _every_action(objects, users["organizer"], other)
    db.session.commit()
    return {"ids": _ids(demo, other, data, assembly, org, users), "objects": objects}


def _first(model, **where):
    return db.session.scalar(db.select(model).filter_by(**where).order_by(model.id))


def _objects(demo, other, data, assembly) -> dict:
    """An id of each kind of object the log can be about."""
    from civicvote.delivery.models import ProgressUpdate
    from civicvote.proposals.models import Milestone
    from civicvote.results.models import AllocationRun

    return {
        "allocation_run": _first(AllocationRun).id,
        "assembly": assembly.id,
        "ballot": data["live"].id,
        "community": other.id,
        "completion_report": None,
        "credential": None,
        "fund_source": data["round"].fund_sources[0].id,
        "funding_round": data["round"].id,
        "milestone": _first(Milestone).id,
        "need": data["need"].id,
        "objection": None,
        "organization": _first(Organization).id,
        "paper_ballot_entry": None,
        "progress_update": _first(ProgressUpdate).id,
        "proposal": data["project"].id,
        "resident": _first(Resident).id,
        "spending_entry": None,
        "user": _first(User, username="clerk").id,
    }


# What each action's entry is about, when its first word does not name the kind of object.
ACTION_OBJECTS = {
    "paper_sheets": "ballot",
    "paper_ballot": "ballot",
    "credentials": "credential",
    "checkin": "assembly",
    "walk_in": "assembly",
    "board": "community",
    "membership": "user",
    "registry": "community",
    "round": "funding_round",
    "allocation": "allocation_run",
    "spending": "proposal",
    "completion": "proposal",
    "progress": "proposal",
}
# The values the sentences take besides actor and object (audit/describe.py EXTRAS), as the
# services store them: each entry keeps only what its sentence needs.
EXTRA_VALUES = {
    "role": {"role": "reviewer"},
    "phase": {"phase": "delivery"},
    "amount": {"amount_fen": 12_300},
    "document": {"document": "预算说明", "file": "预算说明.pdf"},
    "issued": {"issued": 2, "requested": 2, "building": "1栋"},
    "sheets": {"batch": 1, "count": 3},
    "created": {"created": 1},
    "updated": {"updated": 2},
    "ineligible": {"made_ineligible": 0},
    "rule": {"rule": "greedy"},
    "decision": {"decision": "void", "note": "人数不足"},
    "confirmed_by": {"confirmed_by": "计票员", "reason": "card_lost", "walk_in_id": 1},
    "reason": {"reason": "重新核对"},
}
BEFORE_VALUES = {"quorum": {"quorum": {"present": 3, "required": 10, "met": False}}}


def _every_action(objects: dict, actor, community) -> None:
    for action, sentence in SENTENCES.items():
        prefix = action.split(".")[0]
        kind = ACTION_OBJECTS.get(prefix, prefix)
        names = re.findall(r"%\((\w+)\)s", str(sentence._args[0]))
        after = {"ballot_id": objects["ballot"]} if kind == "credential" else {}
        before = {"funded": []} if "earlier" in names else {}
        for name in names:
            after.update(EXTRA_VALUES.get(name, {}))
            before.update(BEFORE_VALUES.get(name, {}))
        if action == "walk_in.issue":
            after["reason"] = "card_lost"
        record(
            action,
            kind,
            objects.get(kind),
            actor=actor,
            community_id=community.id,
            before=before or None,
            after=after or None,
            public=True,
        )


def _ids(demo, other, data, assembly, org, users) -> dict:
    demo_round = _first(FundingRound, community_id=demo.id)
    demo_ballot = _first(Ballot, round_id=demo_round.id)
    return {
        "slug": [demo.slug, other.slug],
        "round_id": [demo_round.id, data["round"].id],
        "ballot_id": [demo_ballot.id, data["live"].id, data["closed"].id, data["yes_no"].id],
        "need_id": [_first(Need, community_id=demo.id).id, data["need"].id, data["declined"].id],
        "proposal_id": [_first(Proposal, round_id=demo_round.id).id, data["project"].id],
        "assembly_id": [_first(Assembly, ballot_id=demo_ballot.id).id, assembly.id],
        "organization_id": [org.id],
        "resident_id": [_first(Resident, community_id=demo.id).id],
        "source_id": [
            _first(FundSource, round_id=demo_round.id).id,
            data["round"].fund_sources[0].id,
        ],
        "user_id": [users["clerk"].id],
        "community_id": [demo.id],
        "event_id": [1, len(SENTENCES) // 2],
        "code": list(data["receipts"][:1]),
        "token": [factories.credential(data["live"])[1]],
        "walk_in_id": [1],
        "batch_id": [1],
        "number": ["1"],
    }


# The audit log holds an entry per action: more than a page of them.
MORE_PAGES = {"/c/<slug>/log", "/admin/audit"}


def _addresses(rule: str, ids: dict) -> list[str]:
    names = ARGUMENT.findall(rule)
    choices = [ids.get(name, ["1"]) for name in names]
    found = []
    for values in itertools.islice(itertools.product(*choices), MOST_PER_RULE):
        address = rule
        for value in values:
            address = ARGUMENT.sub(str(value), address, count=1)
        found.append(address)
    if rule in MORE_PAGES:
        found += [f"{address}?page=2" for address in found]
    return found


def _pages() -> list[str]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "routes"})
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static" and not SKIP.search(rule.rule)
    )


def _allowed() -> set[str]:
    """The world's own data that people chose in ASCII: usernames and web addresses."""
    names = set(db.session.scalars(db.select(User.username)))
    slugs = set(db.session.scalars(db.select(Community.slug)))
    return names | slugs | {"PDF", "CSV", "JSON", "QR", "Pabulib", "MES", "ID", "PEM"}


# --------------------------------------------------------------------------- the test


@pytest.fixture
def zh_client(sqlite_app):
    """SQLite only: what a page says does not depend on the database."""
    from tests.conftest import IsolatedClient

    sqlite_app.test_client_class = IsolatedClient
    return sqlite_app.test_client()


def test_the_test_finds_codes():
    codes, tables = {"allocation.run", "greedy"}, {"cast_ballots"}
    text = visible_text(
        '<p title="x">allocation.run 与 allocation_run #2 · cast_ballots.csv? no: cast_ballots'
        "</p><script>var a_b = 1;</script><a href='/c/x_y'>greedy</a> https://e.org/a_b "
        "预算.pdf civicvote-audit-key.pem</p>"
    )
    found = english_codes(text, codes=codes, tables=tables, allowed=set())
    assert found == {"allocation.run", "allocation_run", "cast_ballots", "greedy"}


def test_chinese_pages_carry_no_english_codes(zh_client):
    world = _demo_world(zh_client.application)
    codes = set(SENTENCES) | _label_codes() | set(world["objects"])
    tables = set(db.metadata.tables)
    allowed = _allowed()
    pages = _pages()
    visitors = [None, *STAFF]
    problems = {}
    rendered = 0
    for visitor in visitors:
        zh_client.delete_cookie("session")
        if visitor:
            answer = factories.login(zh_client, visitor, DEMO_PASSWORD)
            assert answer.status_code == 302, visitor
        for rule in pages:
            if visitor and not rule.startswith(("/console", "/admin", "/account", "/c/")):
                continue
            for address in _addresses(rule, world["ids"]):
                response = zh_client.get(address, headers={"Accept-Language": "zh-CN"})
                if response.mimetype != "text/html" or 300 <= response.status_code < 400:
                    continue
                rendered += 1
                page = response.get_data(as_text=True)
                assert '<html lang="zh-Hans">' in page, address
                found = english_codes(
                    visible_text(page), codes=codes, tables=tables, allowed=allowed
                )
                if found:
                    problems[f"{visitor or 'resident'} {address}"] = sorted(found)
    assert rendered > 200, rendered
    # The public log's two pages told every action (none was left out of the scan).
    other = world["ids"]["slug"][1]
    told = sum(
        zh_client.get(f"/c/{other}/log?page={page}").get_data(as_text=True).count('audit-entry"')
        for page in (1, 2)
    )
    assert told >= len(SENTENCES), told
    assert not problems, "\n".join(f"{page}: {codes}" for page, codes in problems.items())


# --------------------------------------------------------------------------- audit fields

AUDITING_CALLS = {"record", "_audit"}  # audit.services.record and the wrappers that pass on


def _literal_keys(node, functions: dict, seen: tuple = ()) -> set[str]:
    """The keys of the dict an argument builds: literal keys, ``**`` parts, and the literal
    dicts returned by a function of the same module that it calls (a snapshot helper)."""
    keys = set()
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                keys |= _literal_keys(value, functions, seen)
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.add(key.value)
    elif isinstance(node, ast.IfExp):
        keys |= _literal_keys(node.body, functions, seen) | _literal_keys(
            node.orelse, functions, seen
        )
    elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in functions:
        name = node.func.id
        if name not in seen:
            for inner in ast.walk(functions[name]):
                if isinstance(inner, ast.Dict):
                    keys |= _literal_keys(inner, functions, (*seen, name))
    return keys


def test_every_value_an_audit_entry_keeps_has_a_label():
    """Administrators read an entry's before/after as labelled fields: a field without a label
    would show its code (``confirmed_by_id``) on a Chinese page."""
    from civicvote.audit.changes import FIELD_LABELS

    unlabelled = {}
    for path in sorted(Path(civicvote.__file__).parent.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            if name not in AUDITING_CALLS:
                continue
            for keyword in call.keywords:
                if keyword.arg in ("before", "after"):
                    for key in _literal_keys(keyword.value, functions) - set(FIELD_LABELS):
                        unlabelled.setdefault(key, set()).add(path.name)
    assert not unlabelled, unlabelled
