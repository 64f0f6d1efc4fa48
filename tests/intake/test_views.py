"""Needs through HTTP: the resident form, tracking, the public list, support, poster, triage."""

import re

import pytest

from civicvote.extensions import db
from civicvote.intake.models import Need
from tests import factories


@pytest.fixture
def place(app):
    community = factories.community(slug="xfl", name="幸福里")
    funding_round = factories.funding_round(community, phase="intake")
    return community, funding_round


def _logout(client):
    token = factories.csrf_token(client.get("/console").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def _form(client, url):
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page)
    return factories.csrf_token(page), nonce.group(1) if nonce else ""


def test_resident_submits_and_follows_a_need(client, place):
    token, nonce = _form(client, "/c/xfl/needs/new")
    data = {
        "csrf_token": token,
        "nonce": nonce,
        "title": "加装扶手 <b>急</b>",
        "category": "elderly",
        "place": "3号楼",
        "contact": "13800000000",
    }
    response = client.post("/c/xfl/needs/new", data=data)
    assert response.status_code == 302
    again = client.post("/c/xfl/needs/new", data=data)  # the double tap
    assert again.headers["Location"] == response.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Need.id))) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    need = db.session.scalar(db.select(Need))
    assert need.tracking_code[:5] in page
    assert "加装扶手 &lt;b&gt;急&lt;/b&gt;" in page
    assert "13800000000" not in page
    lookup = client.get("/needs/track", query_string={"code": need.tracking_code.lower()})
    assert lookup.status_code == 302
    assert client.get("/needs/track", query_string={"code": "ZZZZZ"}).status_code == 404
    assert client.get("/needs/track/ZZZZZZZZZZ").status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"title": ""},
        {"title": "x" * 10_000},
        {"title": "ok", "category": "forged"},
        {"title": "ok", "place": "p" * 500},
    ],
)
def test_bad_input_gets_a_message_and_a_4xx(client, place, fields):
    token, nonce = _form(client, "/c/xfl/needs/new")
    response = client.post("/c/xfl/needs/new", data={"csrf_token": token, "nonce": nonce, **fields})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "field-error" in page and "请更正标出的内容" in page
    assert db.session.scalar(db.select(db.func.count(Need.id))) == 0


def test_form_without_csrf_is_refused(client, place):
    assert client.post("/c/xfl/needs/new", data={"title": "x"}).status_code == 400


def test_closed_round_says_so(client, app):
    community = factories.community(slug="closed")
    factories.funding_round(community, phase="ballot")
    page = client.get("/c/closed/needs/new").get_data(as_text=True)
    assert "目前不收集需求" in page


def test_public_list_filters_and_hides_contacts(client, place):
    community, funding_round = place
    factories.need(
        community, funding_round, title="扶手", contact="13911112222", category_code="elderly"
    )
    factories.need(
        community,
        funding_round,
        title="树荫",
        category_code="greening",
        place="中心花园",
        status="new",
    )
    page = client.get("/c/xfl/needs").get_data(as_text=True)
    assert "扶手" in page and "树荫" in page and "13911112222" not in page
    page = client.get("/c/xfl/needs?category=greening").get_data(as_text=True)
    assert "树荫" in page and "扶手" not in page
    page = client.get("/c/xfl/needs?status=accepted&place=3号楼").get_data(as_text=True)
    assert "扶手" in page and "树荫" not in page
    assert client.get("/c/xfl/needs?status=<x>&category=forged").status_code == 200
    api = client.get(f"/api/v1/rounds/{funding_round.id}/needs").get_json()
    assert {n["title"] for n in api["needs"]} == {"扶手", "树荫"}
    assert "13911112222" not in str(api) and "contact" not in api["needs"][0]
    assert client.get("/api/v1/rounds/999/needs").status_code == 404


def test_me_too_once_per_browser(client, place):
    community, funding_round = place
    need = factories.need(community, funding_round)
    page = client.get(f"/c/xfl/needs/{need.id}").get_data(as_text=True)
    token = factories.csrf_token(page)
    response = client.post(f"/c/xfl/needs/{need.id}/support", data={"csrf_token": token})
    assert response.status_code == 302
    assert "civicvote_supporter" in response.headers["Set-Cookie"]
    client.post(f"/c/xfl/needs/{need.id}/support", data={"csrf_token": token})
    db.session.refresh(need)
    assert need.support_count == 1
    assert "您已支持这个需求" in client.get(f"/c/xfl/needs/{need.id}").get_data(as_text=True)


def test_me_too_is_rate_limited_per_address(client, app, place):
    community, funding_round = place
    app.config["RATELIMIT_SUPPORT"] = "3 per hour"
    need = factories.need(community, funding_round)
    token = factories.csrf_token(client.get(f"/c/xfl/needs/{need.id}").get_data(as_text=True))
    codes = []
    for _ in range(5):
        client.delete_cookie("civicvote_supporter")
        codes.append(
            client.post(f"/c/xfl/needs/{need.id}/support", data={"csrf_token": token}).status_code
        )
    assert codes[:3] == [302, 302, 302] and codes[3:] == [429, 429]
    db.session.refresh(need)
    assert need.support_count == 3


def test_poster_has_an_svg_qr_without_inline_styles(client, app, place):
    app.config["PUBLIC_BASE_URL"] = "https://pb.example.cn"
    page = client.get("/c/xfl/poster").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert "style=" not in page
    assert 'fill="#000"' in svg
    assert "https://pb.example.cn/c/xfl/needs/new" in page


def test_triage_is_for_this_communitys_organizers(client, place):
    community, funding_round = place
    need = factories.need(community, funding_round, status="new", contact="13800000000")
    factories.user("org1", roles=[(community, "org_member")])
    other = factories.community(slug="other")
    factories.user("boss2", roles=[(other, "organizer")])
    factories.user("boss", roles=[(community, "organizer")])
    factories.login(client, "org1")
    assert client.get("/console/c/xfl/needs").status_code == 403
    _logout(client)
    factories.login(client, "boss2")
    assert client.get(f"/console/c/xfl/needs/{need.id}").status_code == 403
    assert client.get(f"/console/c/other/needs/{need.id}").status_code == 404
    _logout(client)
    factories.login(client, "boss")
    page = client.get(f"/console/c/xfl/needs/{need.id}").get_data(as_text=True)
    assert "13800000000" in page  # staff see the contact
    response = client.post(
        f"/console/c/xfl/needs/{need.id}",
        data={"csrf_token": factories.csrf_token(page), "action": "decline", "decline-reason": ""},
    )
    assert response.status_code == 422
    response = client.post(
        f"/console/c/xfl/needs/{need.id}",
        data={
            "csrf_token": factories.csrf_token(page),
            "action": "decline",
            "decline-reason": "属于物业维修范围，已转交物业",
        },
    )
    assert response.status_code == 302
    track = client.get(f"/needs/track/{need.tracking_code}").get_data(as_text=True)
    assert "属于物业维修范围，已转交物业" in track


def test_merge_through_the_console_and_the_tracker_follows(client, place):
    community, funding_round = place
    target = factories.need(community, funding_round, title="花园补种树木")
    duplicate = factories.need(community, funding_round, title="花园没有树荫", status="new")
    factories.user("boss", roles=[(community, "organizer")])
    factories.login(client, "boss")
    page = client.get(f"/console/c/xfl/needs/{duplicate.id}").get_data(as_text=True)
    response = client.post(
        f"/console/c/xfl/needs/{duplicate.id}",
        data={
            "csrf_token": factories.csrf_token(page),
            "action": "merge",
            "merge-target": str(target.id),
        },
    )
    assert response.status_code == 302
    track = client.get(f"/needs/track/{duplicate.tracking_code}").get_data(as_text=True)
    assert "已与相似需求合并" in track and "花园补种树木" in track
    # A forged merge target (not in the list) is refused.
    response = client.post(
        f"/console/c/xfl/needs/{target.id}",
        data={"csrf_token": factories.csrf_token(page), "action": "merge", "merge-target": "99999"},
    )
    assert response.status_code == 422


def test_staff_entry_with_channel(client, place):
    community, _ = place
    factories.user("clerk", roles=[(community, "clerk")])
    factories.login(client, "clerk")
    token, nonce = _form(client, "/console/c/xfl/needs/new")
    response = client.post(
        "/console/c/xfl/needs/new",
        data={
            "csrf_token": token,
            "nonce": nonce,
            "title": "入户走访：路灯坏了",
            "channel": "visit",
            "category": "",
        },
    )
    assert response.status_code == 302
    need = db.session.scalar(db.select(Need))
    assert need.channel == "visit" and need.entered_by_id is not None


def test_english_pages(client, place):
    client.get("/lang/en")
    page = client.get("/c/xfl/needs/new").get_data(as_text=True)
    assert "Submit a need" in page
