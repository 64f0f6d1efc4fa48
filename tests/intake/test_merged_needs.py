"""Merged needs carry their support and channels to the target; the triage page and the report
count channels alike; a need's page follows it to completion; a need sent twice is kept once.

On the old code the target of a merge showed none of the duplicate author's support, the triage
page left merged needs out of its channel counts while the report counted them, the need's page
stopped at the proposal, and a form sent again after going back (Chromium reloads the page with a
new one-time key and refills the typed fields) made a second need: every test here fails there.
"""

import re

from civicvote.delivery.tracking import need_journey
from civicvote.extensions import db
from civicvote.i18n import LOCALE_COOKIE
from civicvote.intake import services
from civicvote.intake.models import Need
from civicvote.intake.views import SUPPORTER_COOKIE
from civicvote.reports.services import participation
from tests import factories


def _place():
    community = factories.community(slug="merge")
    return community, factories.funding_round(community, phase="intake")


def test_merge_carries_the_author_and_supporters_once(app):
    community, funding_round = _place()
    organizer = factories.user(roles=[(community, "organizer")])
    target = factories.need(community, funding_round, status="accepted", channel="visit")
    online = services.submit_need(
        community, title="路灯", submitter_hash=services.supporter_hash("browser-of-author-1")
    )
    paper = factories.need(community, funding_round, status="new", channel="paper")
    # The online author also said "me too" on the target: counted once after the merge.
    services.support_need(target, "browser-of-author-1")
    services.support_need(paper, "neighbour-browser-22")
    services.merge_needs(online, target, actor=organizer)
    services.merge_needs(paper, target, actor=organizer)
    assert target.support_count == 3  # author 1 (once), the paper need's author, neighbour 22
    assert services.channel_counts(target) == {"visit": 1, "online": 1, "paper": 1}
    counts = services.need_counts(funding_round)
    assert counts["channel"] == {"visit": 1, "online": 1, "paper": 1}
    assert participation(funding_round)["needs_by_channel"] == counts["channel"]
    assert counts["total"] == 1 and counts["status"]["merged"] == 2


def test_triage_page_shows_the_merged_channels(client):
    community, funding_round = _place()
    factories.user("chair", roles=[(community, "organizer")])
    target = factories.need(community, funding_round, status="accepted", channel="visit")
    duplicate = factories.need(community, funding_round, status="new", channel="paper")
    services.merge_needs(duplicate, target, actor=None)
    factories.login(client, "chair")
    client.set_cookie(LOCALE_COOKIE, "en")
    page = client.get(f"/console/c/{community.slug}/needs/{target.id}").get_data(as_text=True)
    assert "Door-to-door visit 1 · Paper form 1" in page
    listing = client.get(f"/console/c/{community.slug}/needs?status=").get_data(as_text=True)
    assert re.search(r"<strong>1</strong>\s*Paper form", listing)
    public = client.get(f"/c/{community.slug}/needs/{target.id}").get_data(as_text=True)
    assert "Neighbours in support: 1" in public


def test_the_journey_follows_a_need_to_completion(app):
    from tests.delivery.builders import funded_project

    _place_, proposal, run, ballot, staff = funded_project(status="provisional")
    community, funding_round = proposal.round.community, proposal.round
    need = factories.need(community, funding_round, status="new")
    states = lambda: {s.code: s.state for s in need_journey(need)}  # noqa: E731
    assert states()["decided"] == "current"
    services.accept_need(need, actor=None)
    assert states()["proposal"] == "current"
    from civicvote.ballots.models import BallotItem
    from civicvote.intake.models import proposal_needs

    db.session.execute(proposal_needs.insert().values(proposal_id=proposal.id, need_id=need.id))
    db.session.add(BallotItem(ballot_id=ballot.id, proposal_id=proposal.id, position=0))
    db.session.commit()
    assert states()["funding"] == "current"  # funded, but the result is provisional
    run.status = "final"
    db.session.commit()
    assert states()["delivery"] == "current"
    from civicvote.delivery import services as delivery

    report = delivery.submit_completion(proposal, "完成", actor=staff["member"])
    delivery.sign_off_completion(report, "已验收", actor=staff["supervisor"])
    assert set(states().values()) == {"done"}


def test_the_need_page_shows_each_stage(client):
    community, funding_round = _place()
    need = factories.need(community, funding_round, status="accepted")
    client.set_cookie(LOCALE_COOKIE, "en")
    page = client.get(f"/c/{community.slug}/needs/{need.id}").get_data(as_text=True)
    for stage in (
        "Received",
        "Triage",
        "Costed proposal",
        "On the ballot",
        "Funding decision",
        "Delivery",
        "Completed",
    ):
        assert stage in page
    assert 'aria-current="step"' in page
    tracked = client.get(f"/needs/track/{need.tracking_code}").get_data(as_text=True)
    assert "Costed proposal" in tracked


def test_a_need_sent_again_after_going_back_is_kept_once(client):
    community, _round = _place()
    client.set_cookie(SUPPORTER_COOKIE, "a-browser-secret-of-24-chars")
    fields = {"title": "单元门禁坏了", "description": "3栋2单元", "category": "", "place": "3栋"}

    def send():
        # Chromium reloads the form on "back": a new one-time key, the typed fields refilled.
        page = client.get(f"/c/{community.slug}/needs/new").get_data(as_text=True)
        token = factories.csrf_token(page)
        nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)
        data = {"csrf_token": token, "nonce": nonce, **fields}
        return client.post(f"/c/{community.slug}/needs/new", data=data)

    first, again = send(), send()
    assert first.headers["Location"] == again.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Need.id))) == 1
    need = db.session.scalar(db.select(Need))
    assert need.submitter_hash == services.supporter_hash("a-browser-secret-of-24-chars")
    fields["title"] = "另一件事"  # other words: a new need
    send()
    assert db.session.scalar(db.select(db.func.count(Need.id))) == 2
