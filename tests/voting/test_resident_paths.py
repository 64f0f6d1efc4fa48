"""Resident paths (issue 17): the round's next step, closed doors that say when, the code
alone, the board's QR target and the card's "when and where", through services and HTTP."""

import re
from datetime import datetime

import pytest

from civicvote.ballots.schedule import ballot_schedule, community_step, round_step
from civicvote.extensions import db
from tests import factories

ZH = {"Accept-Language": "zh-CN"}
# 01:30 UTC is 09:30 in Asia/Shanghai (the instance's time zone); Babel's Chinese date.
ASSEMBLY_AT = datetime(2026, 6, 1, 1, 30)
ASSEMBLY_ZH = "2026年6月1日周一 09:30"


def main_button(html: str) -> tuple[str, str]:
    """(href, text) of the first primary button of the community page's next-step section."""
    section = re.search(r'<section class="next-step.*?</section>', html, re.S).group(0)
    found = re.search(r'<a class="button primary block" href="([^"]+)">([^<]+)</a>', section)
    return found.group(1), found.group(2)


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url, headers=ZH)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def post_code(client, url: str, code: str):
    csrf = factories.csrf_token(page(client, url))
    return client.post(url, data={"csrf_token": csrf, "code": code}, headers=ZH)


# --------------------------------------------------------------------------- the round's step


@pytest.mark.parametrize(
    ("phase", "ballot_status", "kind"),
    [
        ("intake", None, "submit"),
        ("costing", None, "submit"),
        ("review", None, "proposals"),
        ("ballot", "draft", "vote_soon"),
        ("ballot", "open", "vote"),
        ("ballot", "paused", "vote"),
        ("ballot", "closed", "results"),
        ("allocation", "closed", "results"),
        ("notice", "closed", "results"),
        ("delivery", "closed", "delivery"),
        ("evaluation", "closed", "results"),
        ("review", "open", "vote"),  # an open ballot wins over the phase
    ],
)
def test_round_step_follows_the_phase(app, phase, ballot_status, kind):
    funding_round = factories.funding_round(factories.community(), phase=phase)
    if ballot_status:
        factories.ballot(funding_round, status=ballot_status)
    db.session.refresh(funding_round)
    assert round_step(funding_round).kind == kind


def test_no_round_no_step(app):
    assert community_step(factories.community()) is None


def test_a_ballot_opens_at_its_first_assembly_or_online_window(app):
    funding_round = factories.funding_round(factories.community(), phase="ballot")
    mixed = factories.ballot(
        funding_round, status="draft", mode="mixed", online_opens_at=datetime(2026, 6, 2, 0, 0)
    )
    assert ballot_schedule(mixed).opens_at == datetime(2026, 6, 2, 0, 0)
    factories.assembly(mixed, starts_at=ASSEMBLY_AT)
    factories.assembly(mixed, starts_at=datetime(2026, 6, 8, 1, 30), place="二楼会议室")
    db.session.refresh(mixed)
    schedule = ballot_schedule(mixed)
    assert schedule.opens_at == ASSEMBLY_AT
    assert [a.starts_at for a in schedule.assemblies] == [ASSEMBLY_AT, datetime(2026, 6, 8, 1, 30)]
    # An assembly-only ballot has no online window, whatever its fields hold.
    hall = factories.ballot(
        funding_round, status="draft", mode="assembly", online_opens_at=datetime(2026, 5, 1)
    )
    assert ballot_schedule(hall).opens_at is None and not ballot_schedule(hall).online


# --------------------------------------------------------------------------- community page


@pytest.mark.parametrize(
    ("phase", "ballot_status", "endpoint", "label"),
    [
        ("intake", None, "/needs/new", "提交需求"),
        ("review", None, "/proposals", "查看项目方案"),
        ("ballot", "open", "/vote/code/", "去投票"),
        ("notice", "closed", "/results", "查看投票结果"),
        ("delivery", "closed", "/projects", "查看项目实施进展"),
    ],
)
def test_community_page_main_button_is_what_the_phase_needs(
    client, phase, ballot_status, endpoint, label
):
    community = factories.community()
    funding_round = factories.funding_round(community, phase=phase)
    ballot = factories.ballot(funding_round, status=ballot_status) if ballot_status else None
    html = page(client, f"/c/{community.slug}")
    href, text = main_button(html)
    assert endpoint in href and label in text
    if ballot_status == "open":
        assert href.endswith(f"/vote/code/{ballot.id}")
    # "Submit a need" is offered only while needs are collected.
    assert (f"/c/{community.slug}/needs/new" in html) == (phase == "intake")


def test_voting_not_yet_open_says_when_and_where(client):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="ballot")
    ballot = factories.ballot(funding_round, status="draft", title="居民议事会投票", mode="mixed")
    factories.assembly(ballot, starts_at=ASSEMBLY_AT, place="社区服务中心三楼")
    html = page(client, f"/c/{community.slug}")
    assert "投票尚未开始" in html
    assert f"投票将于 {ASSEMBLY_ZH} 开始" in html
    assert "社区服务中心三楼" in html and "居民议事会投票" in html
    # A card opened early: the ballot says the same.
    _, token, _ = factories.credential(ballot)
    client.get(f"/v/{token}")
    vote = page(client, f"/ballots/{ballot.id}/vote")
    assert "投票尚未开始" in vote and f"投票将于 {ASSEMBLY_ZH} 开始" in vote
    en = client.get(f"/ballots/{ballot.id}/vote", headers={"Accept-Language": "en"})
    assert "Voting opens on Mon, Jun 1, 2026 9:30" in en.get_data(as_text=True)


def test_assembly_only_ballot_says_when_and_where_on_the_community_page(client):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="ballot")
    ballot = factories.ballot(funding_round, mode="assembly")
    factories.assembly(ballot, starts_at=ASSEMBLY_AT, place="社区服务中心三楼")
    html = page(client, f"/c/{community.slug}")
    assert "这次投票在居民议事会上进行" in html
    assert f"社区服务中心三楼，{ASSEMBLY_ZH}" in html
    assert "网上投票" not in html


def test_need_form_when_not_collecting_says_the_step(client):
    community = factories.community()
    factories.funding_round(community, phase="review", name="2026年度微基金")
    html = page(client, f"/c/{community.slug}/needs/new")
    assert "目前不收集需求" in html
    assert "2026年度微基金 现在处于“方案审核”阶段" in html
    assert 'name="title"' not in html
    # Without any round it says so.
    empty = factories.community()
    assert "还没有开始新一轮" in page(client, f"/c/{empty.slug}/needs/new")


def test_ballots_file_before_the_result_is_final_says_so(client):
    funding_round = factories.funding_round(factories.community(), phase="notice")
    url = f"/c/{funding_round.community.slug}/rounds/{funding_round.id}/ballots.pb"
    html = page(client, url, status=404)
    assert "结果确定后才能下载" in html and "页面不存在" not in html


# --------------------------------------------------------------------------- the code alone


def two_open_ballots():
    funding_round = factories.funding_round(factories.community(), phase="ballot")
    first = factories.ballot(funding_round, title="楼道改造投票")
    second = factories.ballot(funding_round, title="绿化投票", method="knapsack", budget_fen=10**7)
    return first, second


def test_code_alone_finds_its_ballot_among_several(client):
    first, second = two_open_ballots()
    _, _, code = factories.credential(second)
    form = page(client, "/vote/code")
    assert 'name="ballot"' not in form and 'name="code"' in form
    answer = post_code(client, "/vote/code", f"{code[:4]}-{code[4:8]}-{code[8:]}".lower())
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/ballots/{second.id}/vote?opened=1")
    assert 'name="budget"' not in page(client, f"/ballots/{second.id}/vote")
    # On the first ballot's own page, the second ballot's code still leads to its ballot.
    _, _, other = factories.credential(second)
    answer = post_code(client, f"/vote/code/{first.id}", other)
    assert answer.headers["Location"].endswith(f"/ballots/{second.id}/vote?opened=1")


def test_ballot_code_page_names_the_ballot_and_when(client):
    first, _second = two_open_ballots()
    factories.assembly(first, starts_at=ASSEMBLY_AT, place="社区服务中心三楼")
    html = page(client, f"/vote/code/{first.id}")
    assert "楼道改造投票" in html and "绿化投票" not in html
    assert ASSEMBLY_ZH in html and "社区服务中心三楼" in html
    assert client.get("/vote/code/999999").status_code == 404


def test_wrong_codes_are_limited_per_code_and_a_valid_code_is_taken(app, client):
    app.config["RATELIMIT_CREDENTIAL"] = "3 per minute"
    first, second = two_open_ballots()
    _, _, code = factories.credential(first)
    wrong = [post_code(client, "/vote/code", "ZZZZZZZZZZ") for _ in range(4)]
    assert [r.status_code for r in wrong] == [403, 403, 403, 429]
    assert "投票码不对" in wrong[0].get_data(as_text=True)
    assert post_code(client, f"/vote/code/{second.id}", code).status_code == 302


def test_a_withdrawn_card_counts_against_its_own_ballot(app, client):
    app.config["RATELIMIT_CREDENTIAL_BALLOT"] = "2 per minute"
    first, second = two_open_ballots()
    credential, _, code = factories.credential(first)
    credential.revoked_at = datetime(2026, 1, 1)
    db.session.commit()
    # A withdrawn card names its ballot: its refusal counts against that ballot.
    assert post_code(client, "/vote/code", code).status_code == 403
    assert post_code(client, f"/vote/code/{first.id}", "YYYYYYYYYY").status_code == 403
    assert post_code(client, f"/vote/code/{first.id}", "XXXXXXXXXX").status_code == 429
    # Other ballots, and unknown codes typed without a ballot, have their own counts.
    assert post_code(client, f"/vote/code/{second.id}", "WWWWWWWWWW").status_code == 403
    assert post_code(client, "/vote/code", "VVVVVVVVVV").status_code == 403


def test_board_qr_leads_to_the_ballot_code_page(client):
    from tests.qr import decode

    first, _second = two_open_ballots()
    community = first.round.community
    community.board_ballot_id = first.id
    db.session.commit()
    html = page(client, f"/c/{community.slug}/board")
    qr = re.search(r'<svg class="qr".*?</svg>', html, re.S).group(0)
    assert decode(qr) == [f"http://localhost/vote/code/{first.id}"]


# --------------------------------------------------------------------------- the voter card


def test_voter_card_says_when_and_where_to_vote(client):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="ballot")
    ballot = factories.ballot(
        funding_round,
        status="draft",
        mode="mixed",
        online_opens_at=datetime(2026, 6, 1, 0, 0),
        online_closes_at=datetime(2026, 6, 7, 12, 0),
    )
    factories.assembly(ballot, starts_at=ASSEMBLY_AT, place="社区服务中心三楼")
    factories.registry(community, buildings=1, rooms=1, per_room=1)
    factories.user("org-cards", roles=[(community, "organizer")])
    factories.login(client, "org-cards")
    url = f"/console/c/{community.slug}/ballots/{ballot.id}/cards"
    form = page(client, url)
    assert "每张投票卡上都会写明投票的时间和地点" in form
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', form).group(1)
    issued = client.post(
        url,
        data={
            "csrf_token": factories.csrf_token(form),
            "building": "",
            "count": "",
            "request_key": key,
        },
    )
    assert issued.status_code == 303
    sheet = page(client, issued.headers["Location"])
    card = re.search(r'<article class="voter-card">.*?</article>', sheet, re.S).group(0)
    assert "投票时间和地点" in card
    assert f"到会投票：{ASSEMBLY_ZH}，社区服务中心三楼" in card
    assert "网上投票：2026年6月1日周一 08:00 至 2026年6月7日周日 20:00" in card


def test_ballot_poster_qr_leads_to_the_ballot_and_says_when(client):
    from tests.qr import decode

    first, _second = two_open_ballots()
    factories.assembly(first, starts_at=ASSEMBLY_AT, place="社区服务中心三楼")
    html = page(client, f"/vote/code/{first.id}/poster")
    qr = re.search(r'<svg class="qr".*?</svg>', html, re.S).group(0)
    assert decode(qr) == [f"http://localhost/vote/code/{first.id}"]
    assert "楼道改造投票" in html and ASSEMBLY_ZH in html and "社区服务中心三楼" in html
