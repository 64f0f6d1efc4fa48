"""The consoles' counting (civicvote/workbench/worklist.py) against a busy community, on both
databases: each role's section counts and links what waits for it, and nothing else."""

import pytest

from civicvote.accounts.tasks import ROLE_TASKS, roles_for, user_may
from civicvote.delivery.models import SpendingEntry
from civicvote.extensions import db
from civicvote.intake.models import Need
from civicvote.workbench import worklist
from tests import factories
from tests.communities.busy import EXPECTED, busy_community


@pytest.fixture
def busy(app):
    with app.test_request_context():  # the titles are translated strings
        yield busy_community()


def _tasks(section) -> dict:
    return {task.key: task for task in section.tasks}


def _only(sections):
    assert len(sections) == 1
    return _tasks(sections[0])


def test_the_queries_count_what_waits(busy):
    place, _staff, facts = busy
    assert worklist.needs_to_triage(place) == EXPECTED["triage"]
    assert len(worklist.proposals_in_review(place)) == EXPECTED["proposals_in_review"]
    assert len(worklist.ballots_in_progress(place)) == EXPECTED["ballots"]
    assert sum(n for _r, n in worklist.open_objections(place)) == EXPECTED["objections"]
    assert len(worklist.upcoming_assemblies(place)) == EXPECTED["assemblies"]
    assert worklist.sheets_waiting([facts["ballot"]]) == EXPECTED["sheets_waiting"]
    found = worklist.disputed_sheets(place)
    assert [(b.id, d.sheet_number) for b, d in found] == [(facts["ballot"], facts["disputed"])]
    assert len(worklist.payments_to_approve(place)) == EXPECTED["approvals"]
    signs = worklist.milestones_to_sign_off(place) + worklist.completions_to_sign_off(place)
    assert len(signs) == EXPECTED["sign_offs"]
    assert [p.id for p in worklist.funded_in(place)] == [facts["project"]]


def test_work_moves_out_of_the_counts_when_done(busy):
    place, _staff, _facts = busy
    for need in db.session.scalars(db.select(Need).filter_by(status="new")):
        need.status = "accepted"
    entry = db.session.scalar(db.select(SpendingEntry).filter_by(approved_at=None))
    entry.approved_at = entry.created_at
    db.session.commit()
    assert worklist.needs_to_triage(place) == 0
    assert worklist.payments_to_approve(place) == []


def test_another_community_sees_none_of_it(busy):
    other = factories.community()
    factories.funding_round(other)
    assert worklist.needs_to_triage(other) == 0
    assert worklist.proposals_in_review(other) == []
    assert worklist.disputed_sheets(other) == []
    assert worklist.payments_to_approve(other) == []
    assert worklist.open_objections(other) == []


def test_each_role_has_its_titled_section_with_its_counts(busy, app):
    place, staff, facts = busy
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        organizer = worklist.sections(place, staff["organizer"])
        assert [s.title for s in organizer] == ["组织者工作台"]
        tasks = _only(organizer)
        assert tasks["triage"].count == EXPECTED["triage"]
        assert tasks["proposals"].count == EXPECTED["proposals_in_review"]
        assert tasks["ballots"].count == EXPECTED["ballots"]
        assert tasks["objections"].count == EXPECTED["objections"]
        assert {"rounds", "registry", "assemblies", "presenter"} <= set(tasks)

        reviewer = worklist.sections(place, staff["reviewer"])
        assert [s.title for s in reviewer] == ["评审员工作台"]
        review = _only(reviewer)["review"]
        assert review.count == EXPECTED["proposals_in_review"]
        assert [i.endpoint for i in review.items] == ["proposals.console_show"] * 2

        clerk = worklist.sections(place, staff["clerk"])
        assert [s.title for s in clerk] == ["计票员工作台"]
        tasks = _only(clerk)
        assert tasks["assemblies"].count == EXPECTED["assemblies"]
        assert tasks["paper_entry"].count == EXPECTED["sheets_waiting"]
        assert tasks["paper_entry"].items[0].values == {"ballot_id": facts["ballot"]}
        assert "triage" not in tasks
        assert tasks["ballots"].count is None  # a place to go; running ballots is not theirs

        supervisor = worklist.sections(place, staff["supervisor"])
        assert [s.title for s in supervisor] == ["监督委员会工作台"]
        tasks = _only(supervisor)
        assert tasks["paper_disputes"].count == EXPECTED["disputes"]
        assert tasks["paper_disputes"].items[0].endpoint == "voting.paper_dispute"
        assert tasks["approvals"].count == EXPECTED["approvals"]
        assert tasks["sign_offs"].count == EXPECTED["sign_offs"]
        assert tasks["sign_offs"].items[0].values == {"proposal_id": facts["project"]}
        assert supervisor[0].waiting == sum(t.count or 0 for t in supervisor[0].tasks)

        member = worklist.sections(place, staff["member"])
        assert [s.title for s in member] == ["社会组织工作台"]
        tasks = _only(member)
        assert tasks["own_proposals"].count == EXPECTED["own_proposals"]
        assert [i.values for i in tasks["delivery"].items] == [{"proposal_id": facts["project"]}]

        several = worklist.sections(place, staff["several"])
        assert [s.title for s in several] == ["组织者工作台", "监督委员会工作台"]


def test_a_console_lists_only_tasks_its_role_may_open(busy):
    place, staff, _facts = busy
    for name, user in staff.items():
        for section in worklist.sections(place, user):
            for task in section.tasks:
                assert task.key in ROLE_TASKS[section.role]
                assert user_may(user, place.id, task.key), (name, task.key)


def test_an_unknown_task_is_refused_loudly():
    with pytest.raises(KeyError):
        roles_for("no-such-task")
    assert roles_for("settle_disputes") == ("supervisor",)


def test_entering_needs_is_offered_only_while_a_round_collects_them(busy, app):
    place, staff, _facts = busy
    with app.test_request_context():
        assert "enter_needs" not in _only(worklist.sections(place, staff["clerk"]))
        place.rounds[-1].phase = "intake"
        db.session.commit()
        clerk = _only(worklist.sections(place, staff["clerk"]))
        assert clerk["enter_needs"].link.endpoint == "intake.staff_submit"
