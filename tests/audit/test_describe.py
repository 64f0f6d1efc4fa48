"""Every recorded action reads as a sentence (services, no HTTP), and every kind of object an
entry can be about resolves to its title and to pages that exist."""

import ast
import re
from datetime import date

import pytest
from flask_babel import force_locale

from civicvote.audit.actions import MILESTONES, OBJECT_NOUNS, SENTENCES
from civicvote.audit.describe import LOADERS, changes, describe
from civicvote.audit.models import AuditEvent
from civicvote.audit.services import record
from civicvote.extensions import db
from tests import factories
from tests.conftest import REPO

ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")
RECORDING = {"record", "_audit", "_record_source"}  # functions whose first argument is an action


def _recorded_actions() -> dict[str, str]:
    """Every action code written literally where civicvote records an entry: code -> place."""
    found = {}
    for path in sorted((REPO / "civicvote").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0]
            candidates = []
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                candidates = [first.value]
            elif isinstance(first, ast.IfExp):  # "user.activate" if active else "user.deactivate"
                candidates = [
                    part.value
                    for part in (first.body, first.orelse)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                ]
            elif isinstance(first, ast.JoinedStr):  # f"ballot.{action}": its fixed part
                candidates = [
                    v.value + "*" for v in first.values[:1] if isinstance(v, ast.Constant)
                ]
            if name in RECORDING:
                for code in candidates:
                    found[code] = f"{path.relative_to(REPO)}:{node.lineno}"
    return found


def test_every_recorded_action_has_a_sentence():
    found = _recorded_actions()
    assert len(found) > 40  # the scan sees the recording calls
    missing = []
    for code, place in found.items():
        if code.endswith("*"):
            if not any(action.startswith(code[:-1]) for action in SENTENCES):
                missing.append((code, place))
        elif code not in SENTENCES:
            missing.append((code, place))
    assert missing == [], "add a sentence to civicvote/audit/actions.py for each"


def test_the_dynamic_actions_have_sentences():
    # Recorded as f"ballot.{action}" and f"proposal.{decision}": every value they can take.
    from civicvote.ballots.lifecycle import STATUS_ACTIONS
    from civicvote.proposals.review import DECISION_STATUS

    for action in STATUS_ACTIONS:
        assert f"ballot.{action}" in SENTENCES
    for decision in DECISION_STATUS:
        assert f"proposal.{decision}" in SENTENCES


def test_milestones_are_recorded_actions():
    assert set(SENTENCES) >= MILESTONES


def _event(action: str, object_type: str = "ballot") -> AuditEvent:
    return AuditEvent(
        id=1,
        action=action,
        object_type=object_type,
        object_id=None,
        community_id=None,
        actor_id=None,
        actor_label="system",
        created_at=None,
        before={"role": "organizer"},
        after={
            "phase": "ballot",
            "amount_fen": 12_345,
            "document": "预算表",
            "issued": 24,
            "created": 3,
            "updated": 2,
            "made_ineligible": ["A1"],
            "role": "clerk",
        },
    )


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_every_sentence_reads_in_both_languages(app, locale):
    with app.test_request_context(), force_locale(locale):
        events = [_event(action) for action in SENTENCES]
        for event, entry in zip(events, describe(events), strict=True):
            text = str(entry.sentence)
            assert "%(" not in text and "%)" not in text, (event.action, text)
            assert event.action not in text and "_" not in text, (event.action, text)
            assert ("系统" if locale == "zh_Hans" else "The system") in text, text
            if "%(object)s" in str(SENTENCES[event.action]):
                assert ("投票" if locale == "zh_Hans" else "ballot") in text, text
        spending = describe([_event("spending.add", "spending_entry")])[0]
        assert "¥123.45" in str(spending.sentence)
        phase = str(describe([_event("round.advance", "funding_round")])[0].sentence)
        assert ("「投票中」" if locale == "zh_Hans" else "“Voting”") in phase


def test_unknown_old_actions_still_read(app):
    with app.test_request_context(), force_locale("zh_Hans"):
        event = _event("retired.action", "need")
        assert str(describe([event])[0].sentence) == "系统 修改了「居民需求」"


def test_changes_are_labelled_and_formatted(app):
    event = AuditEvent(
        action="fund_source.update",
        object_type="fund_source",
        before={"amount_fen": 100_00, "public": True, "categories": ["elderly"], "kind": "general"},
        after={"amount_fen": 250_00, "public": False, "categories": ["elderly"], "kind": "general"},
    )
    with app.test_request_context(), force_locale("zh_Hans"):
        found = {c.label: (c.before, c.after) for c in changes(event)}
    assert found["金额"] == ("¥100.00", "¥250.00")
    assert found["公开"] == ("是", "否")
    assert found["类别"] == (None, "elderly")  # unchanged: shown once
    assert found["类型"] == (None, "一般资金：可资助任何项目")  # the kind's label, not "general"


def test_every_kind_of_object_has_a_noun_and_a_loader():
    assert set(LOADERS) <= set(OBJECT_NOUNS)
    assert set(OBJECT_NOUNS) - set(LOADERS) == {"credential"}  # told about as its ballot


@pytest.fixture
def objects(app):
    """One real object of every kind an entry can be about, and its title."""
    from civicvote.ballots.models import PaperBallotEntry, PaperSheet, PaperSheetBatch
    from civicvote.checkin.models import Assembly
    from civicvote.delivery.models import CompletionReport, ProgressUpdate, SpendingEntry
    from civicvote.proposals.models import Milestone
    from civicvote.results.models import Objection
    from tests.delivery.builders import funded_project

    place, project, run, ballot, staff = funded_project()
    project.version = 1
    round_ = project.round
    clerk = staff["organizer"]
    household = factories.household(place)
    batch = PaperSheetBatch(ballot_id=ballot.id, request_key="k", count=1)
    db.session.add(batch)
    db.session.flush()
    sheet = PaperSheet(number="ABCD2345", ballot_id=ballot.id, batch_id=batch.id)
    db.session.add(sheet)
    db.session.flush()
    made = {
        "allocation_run": (run, round_.name),
        "ballot": (ballot, ballot.title),
        "community": (place, place.name),
        "funding_round": (round_, round_.name),
        "fund_source": (round_.fund_sources[0], round_.fund_sources[0].name),
        "need": (factories.need(place, round_, title="加装电梯"), "加装电梯"),
        "organization": (project.organization, project.organization.name),
        "proposal": (project, project.title),
        "resident": (factories.resident(household, name="李四"), "李四"),
        "user": (factories.user("zhangsan", display_name="张三"), "张三"),
        "assembly": (
            Assembly(
                ballot_id=ballot.id, title="议事会", place="活动室", starts_at=date(2026, 6, 1)
            ),
            "议事会",
        ),
        "milestone": (Milestone(proposal_id=project.id, title="完工验收"), "完工验收"),
        "progress_update": (ProgressUpdate(proposal_id=project.id, text="进度"), project.title),
        "spending_entry": (
            SpendingEntry(
                proposal_id=project.id,
                spent_on=date(2026, 5, 1),
                item="树苗",
                amount_fen=100,
                payee="苗圃",
            ),
            project.title,
        ),
        "completion_report": (CompletionReport(proposal_id=project.id, text="完成"), project.title),
        "objection": (Objection(run_id=run.id, text="有异议"), round_.name),
        "paper_ballot_entry": (
            PaperBallotEntry(
                ballot_id=ballot.id, sheet_number=sheet.number, clerk_id=clerk.id, contents={}
            ),
            ballot.title,
        ),
    }
    for obj, _title in made.values():
        db.session.add(obj)
    db.session.commit()
    return place, made


def test_every_kind_of_object_links_to_pages_that_exist(client, objects):
    place, made = objects
    for kind, (obj, _title) in made.items():
        record("need.accept", kind, obj.id, community_id=place.id, public=True)
    record(
        "credentials.revoke",
        "credential",
        77,
        community_id=place.id,
        after={"ballot_id": made["ballot"][0].id},
    )
    db.session.commit()
    events = list(db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)))
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    with client.application.test_request_context():
        public, staff = describe(events), describe(events, staff=True)
    for event, seen, seen_by_staff in zip(events, public, staff, strict=True):
        kind = event.object_type
        title = made[kind][1] if kind in made else made["ballot"][1]
        assert f"{title}</a>" in str(seen_by_staff.sentence), kind
        assert seen_by_staff.url, kind
        assert client.get(seen_by_staff.url).status_code == 200, (kind, seen_by_staff.url)
        if seen.url:
            assert client.get(seen.url).status_code == 200, (kind, seen.url)
        else:
            assert kind in {"organization", "user", "resident"}, kind  # no public page
