"""Needs through the service functions: submission, tracking, support, triage, listing."""

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.errors import Conflict, DomainError, InvalidTransition
from civicvote.extensions import db
from civicvote.intake import services
from civicvote.intake.models import Need, NeedSupport
from tests import factories


@pytest.fixture
def place(app):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="intake")
    return community, funding_round


def test_resident_submits_a_need_with_a_random_code(place):
    community, funding_round = place
    need = services.submit_need(
        community,
        title="加装扶手",
        description="台阶陡",
        category_code="elderly",
        place="3号楼",
        contact="13800000000",
    )
    assert need.round_id == funding_round.id
    assert need.status == "new" and need.channel == "online"
    assert len(need.tracking_code) == 10
    assert set(need.tracking_code) <= set(services.CODE_ALPHABET)
    other = services.submit_need(community, title="另一个")
    assert other.tracking_code != need.tracking_code


def test_tracking_code_lookup_forgives_spaces_and_case(place):
    community, _ = place
    need = services.submit_need(community, title="加装扶手")
    typed = services.format_code(need.tracking_code).lower()
    assert " " in typed
    assert services.find_by_code(typed).id == need.id
    assert services.find_by_code("NOPE") is None
    assert services.find_by_code("") is None


def test_double_submit_makes_one_need(place):
    community, _ = place
    first = services.submit_need(community, title="路灯", submission_key="k" * 32)
    second = services.submit_need(community, title="路灯", submission_key="k" * 32)
    assert first.id == second.id
    assert db.session.scalar(db.select(db.func.count(Need.id))) == 1


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 10_000}, "title"),
        ({"title": "ok", "description": "x" * 10_000}, "description"),
        ({"title": "ok", "category_code": "forged"}, "category"),
        ({"title": "ok", "channel": "telepathy"}, "channel"),
        ({"title": "ok", "channel": "paper"}, "channel"),  # offline channels are staff only
    ],
)
def test_bad_needs_are_refused_and_nothing_is_saved(place, fields, code):
    community, _ = place
    with pytest.raises(DomainError) as caught:
        services.submit_need(community, **fields)
    assert caught.value.code == code
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Need.id))) == 0


def test_html_and_emoji_are_kept_as_text(place):
    community, _ = place
    need = services.submit_need(community, title="<script>alert(1)</script> 🌳 Tree 树")
    assert db.session.get(Need, need.id).title == "<script>alert(1)</script> 🌳 Tree 树"


def test_needs_only_while_the_round_collects_them(app):
    community = factories.community()
    factories.funding_round(community, phase="ballot")
    with pytest.raises(Conflict):
        services.submit_need(community, title="太晚了")


def test_staff_entry_records_channel_and_audit(place):
    community, _ = place
    clerk = factories.user(roles=[(community, "clerk")])
    need = services.submit_need(community, title="纸质意见", channel="paper", entered_by=clerk)
    assert need.channel == "paper" and need.entered_by_id == clerk.id
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="need.enter"))
    assert event.actor_id == clerk.id and event.after["channel"] == "paper"


def test_one_support_per_browser_and_the_count_follows_the_rows(place):
    community, funding_round = place
    need = factories.need(community, funding_round, status="new")
    _, created = services.support_need(need, "browser-one-secret-123")
    assert created
    _, again = services.support_need(need, "browser-one-secret-123")
    assert not again
    services.support_need(need, "browser-two-secret-456")
    db.session.refresh(need)
    rows = db.session.scalar(db.select(db.func.count(NeedSupport.id)).filter_by(need_id=need.id))
    assert need.support_count == rows == 2
    stored = db.session.scalars(db.select(NeedSupport.supporter_hash)).all()
    assert "browser-one-secret-123" not in stored  # only hashes are kept


def test_declined_needs_cannot_be_supported(place):
    community, funding_round = place
    need = factories.need(community, funding_round, status="declined", decline_reason="不在范围")
    with pytest.raises(Conflict):
        services.support_need(need, "browser-one-secret-123")


def test_accept_and_decline_with_reason(place):
    community, funding_round = place
    organizer = factories.user(roles=[(community, "organizer")])
    need = factories.need(community, funding_round, status="new")
    with pytest.raises(DomainError):
        services.decline_need(need, "  ", actor=organizer)
    services.decline_need(need, "属于物业维修范围", actor=organizer)
    assert need.status == "declined" and need.decline_reason == "属于物业维修范围"
    services.accept_need(need, actor=organizer)
    assert need.status == "accepted" and need.decline_reason == ""
    actions = db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["need.decline", "need.accept"]


def test_merge_carries_supports_without_double_counting(place):
    community, funding_round = place
    organizer = factories.user(roles=[(community, "organizer")])
    target = factories.need(community, funding_round, status="accepted")
    duplicate = factories.need(community, funding_round, status="new")
    services.support_need(target, "shared-browser-secret-1")
    services.support_need(duplicate, "shared-browser-secret-1")
    services.support_need(duplicate, "only-duplicate-secret-2")
    services.merge_needs(duplicate, target, actor=organizer)
    assert duplicate.status == "merged" and duplicate.merged_into_id == target.id
    # The shared browser once, the other supporter, and the duplicate's author (issue 15).
    assert target.support_count == 3
    assert duplicate.support_count == 0
    # The duplicate's tracker now leads to the target.
    found = services.find_by_code(duplicate.tracking_code)
    assert services.resolve(found).id == target.id
    # Supporting the merged need supports the target, once.
    _, created = services.support_need(duplicate, "only-duplicate-secret-2")
    assert not created


def test_merge_refuses_itself_and_other_communities(place):
    community, funding_round = place
    organizer = factories.user(roles=[(community, "organizer")])
    need = factories.need(community, funding_round)
    other_place = factories.community()
    other_round = factories.funding_round(other_place, phase="intake")
    foreign = factories.need(other_place, other_round)
    with pytest.raises(DomainError):
        services.merge_needs(need, need, actor=organizer)
    with pytest.raises(DomainError):
        services.merge_needs(need, foreign, actor=organizer)


def test_merged_needs_cannot_change_again(place):
    community, funding_round = place
    organizer = factories.user(roles=[(community, "organizer")])
    target = factories.need(community, funding_round)
    duplicate = factories.need(community, funding_round, status="new")
    services.merge_needs(duplicate, target, actor=organizer)
    with pytest.raises(InvalidTransition):
        services.accept_need(duplicate, actor=organizer)


def test_public_list_filters_and_counts(place):
    community, funding_round = place
    factories.need(
        community,
        funding_round,
        status="accepted",
        category_code="elderly",
        place="3号楼",
        channel="visit",
    )
    factories.need(
        community, funding_round, status="new", category_code="greening", place="中心花园"
    )
    factories.need(
        community,
        funding_round,
        status="declined",
        category_code="greening",
        place="中心花园",
        channel="paper",
    )
    assert len(services.list_needs(funding_round)) == 3
    assert len(services.list_needs(funding_round, status="accepted")) == 1
    assert len(services.list_needs(funding_round, category="greening")) == 2
    assert len(services.list_needs(funding_round, place="中心花园", status="new")) == 1
    counts = services.need_counts(funding_round)
    assert counts["total"] == 3
    assert counts["status"] == {"accepted": 1, "new": 1, "declined": 1}
    assert counts["category"] == {"elderly": 1, "greening": 2}
    assert counts["channel"] == {"visit": 1, "online": 1, "paper": 1}
    assert services.places(funding_round) == ["3号楼", "中心花园"]


def test_public_json_never_holds_the_contact(place):
    community, _ = place
    need = services.submit_need(community, title="扶手", contact="13800000000")
    data = services.need_json(need)
    assert "13800000000" not in str(data)
    assert need.tracking_code not in str(data)
