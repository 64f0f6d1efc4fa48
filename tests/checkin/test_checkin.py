"""Check-in at the desk: by scanned link or typed code, once, rate-limited; quorum; walk-ins."""

import logging
import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.ballots.models import Participation
from civicvote.checkin.models import CheckIn
from civicvote.checkin.services import CheckInRefused, check_in, parse_scan_time, quorum_status
from civicvote.extensions import db
from civicvote.registry.credentials import find_credential, issue_credentials
from civicvote.registry.models import Credential
from civicvote.timeutil import iso_utc, utcnow
from tests import factories
from tests.registry.qr import decode_svg, svgs_in

BASE = "http://localhost"


@pytest.fixture
def hall(app):
    """A community with 6 households (12 adults), a ballot, an assembly and six cards."""
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household")
    households = factories.registry(community, buildings=2, rooms=3, per_room=2)
    ballot = factories.ballot(
        funding_round, quorum_kind="households_percent", quorum_value=50, pass_threshold_percent=50
    )
    assembly = factories.assembly(ballot)
    cards = issue_credentials(ballot.id, base_url=BASE)
    db.session.commit()
    return community, ballot, assembly, cards, households


@pytest.fixture
def desk(hall, client):
    community = hall[0]
    factories.user("desk", roles=[(community, "clerk")])
    factories.login(client, "desk")
    return hall


def _desk_url(community, assembly, suffix=""):
    return f"/console/c/{community.slug}/assemblies/{assembly.id}{suffix}"


def _scan(client, community, assembly, code, json=False):
    page = client.get(_desk_url(community, assembly)).get_data(as_text=True)
    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        _desk_url(community, assembly, "/check-in"),
        data={"csrf_token": factories.csrf_token(page), "code": code},
        headers=headers,
    )


# --- service ----------------------------------------------------------------------------------


def test_check_in_by_scanned_link_or_typed_code(hall):
    _community, _ballot, assembly, cards, _households = hall
    first = check_in(assembly, cards[0].link + "\n")
    assert not first.already and first.address == "1栋-1单元-101"
    typed = cards[1].short_code.lower()
    second = check_in(assembly, f"{typed[:5]} {typed[5:]}")
    assert second.address == "1栋-1单元-201"
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 2


def test_double_check_in_reports_the_first_time(hall):
    _community, _ballot, assembly, cards, _households = hall
    first = check_in(assembly, cards[0].link)
    db.session.commit()
    again = check_in(assembly, cards[0].short_code)
    assert again.already and again.checked_in_at == first.checked_in_at
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 1


def test_unique_constraint_holds_even_without_the_application_check(hall):
    from sqlalchemy.exc import IntegrityError

    _community, _ballot, assembly, cards, _households = hall
    db.session.add(CheckIn(assembly_id=assembly.id, voter_key=cards[0].voter.key))
    db.session.commit()
    db.session.add(CheckIn(assembly_id=assembly.id, voter_key=cards[0].voter.key))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "other_ballot"])
def test_refused_codes_are_logged_without_the_code(hall, caplog, state):
    _community, ballot, assembly, cards, _households = hall
    code = cards[0].token
    if state == "unknown":
        code = "ABCDEFGHJK"
    elif state == "revoked":
        find_credential(ballot.id, code).revoked_at = utcnow()
    elif state == "expired":
        find_credential(ballot.id, code).expires_at = utcnow() - timedelta(minutes=1)
    else:
        other_ballot = factories.ballot(ballot.round)
        code = issue_credentials(other_ballot.id, count=1, base_url=BASE)[0].token
    db.session.commit()
    with (
        caplog.at_level(logging.WARNING, logger="civicvote.checkin"),
        pytest.raises(CheckInRefused),
    ):
        check_in(assembly, code)
    assert "check-in refused" in caplog.text
    assert code not in caplog.text
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0


def test_quorum_households_percent(hall):
    _community, ballot, assembly, cards, _households = hall
    status = quorum_status(ballot)
    assert (status["present"], status["eligible"], status["required"], status["met"]) == (
        0,
        6,
        3,
        False,
    )
    for card in cards[:3]:
        check_in(assembly, card.token)
    db.session.commit()
    status = quorum_status(ballot)
    assert (status["present"], status["required"], status["met"]) == (3, 3, True)
    assert status["pass_threshold_percent"] == 50


def test_quorum_counts_people_across_assemblies_once(hall):
    _community, ballot, assembly, cards, _households = hall
    second = factories.assembly(ballot, title="第二场")
    check_in(assembly, cards[0].token)
    check_in(second, cards[0].token)
    check_in(second, cards[1].token)
    db.session.commit()
    assert quorum_status(ballot)["present"] == 2


def test_quorum_residents_percent_and_minimum(app):
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="resident")
    households = factories.registry(community, buildings=1, rooms=2, per_room=2)
    factories.resident(households[0], birth_year=2020)  # a child: not eligible
    ballot = factories.ballot(funding_round, quorum_kind="residents_percent", quorum_value=60)
    assembly = factories.assembly(ballot)
    cards = issue_credentials(ballot.id, base_url=BASE)
    assert len(cards) == 4
    for card in cards[:2]:
        check_in(assembly, card.token)
    db.session.commit()
    status = quorum_status(ballot)
    assert (status["present"], status["eligible"], status["required"], status["met"]) == (
        2,
        4,
        3,
        False,
    )
    ballot.quorum_kind, ballot.quorum_value = "households_percent", 100
    assert quorum_status(ballot)["present"] == 1  # both are from the same household
    ballot.quorum_kind, ballot.quorum_value = "minimum", 2
    status = quorum_status(ballot)
    assert (status["required"], status["met"]) == (2, True)


# --- desk views -------------------------------------------------------------------------------


def test_desk_check_in_without_javascript(desk, client):
    community, _ballot, assembly, cards, _households = desk
    response = _scan(client, community, assembly, cards[0].link)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1栋-1单元-101" in page
    again = _scan(client, community, assembly, cards[0].short_code)
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    checked = db.session.scalar(db.select(CheckIn))
    from flask_babel import format_time

    with client.application.test_request_context():
        hhmm = format_time(checked.checked_in_at, "HH:mm")
    assert re.search(r"\d\d:\d\d", page) and hhmm in page
    assert "flash-warning" in page
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="checkin.create"))
    assert event.actor_label == "desk" and cards[0].token not in str(event.after)


def test_desk_check_in_json_and_attendance(desk, client):
    community, _ballot, assembly, cards, _households = desk
    response = _scan(client, community, assembly, cards[2].link, json=True)
    assert response.status_code == 201
    data = response.get_json()
    assert data["ok"] and not data["already"] and data["address"] == "1栋-1单元-301"
    assert data["attendance"] == 1 and data["quorum"]["present"] == 1
    again = _scan(client, community, assembly, cards[2].link, json=True)
    assert again.status_code == 200 and again.get_json()["already"]
    assert re.search(r"\d\d:\d\d", again.get_json()["message"])
    live = client.get(_desk_url(community, assembly, "/attendance.json")).get_json()
    assert live["attendance"] == 1 and live["quorum"]["required"] == 3
    assert live["recent"][0]["address"] == "1栋-1单元-301"


def test_unknown_code_is_404_and_not_echoed(desk, client):
    community, _ballot, assembly, _cards, _households = desk
    response = _scan(client, community, assembly, "ZZZZZZZZZZ")
    assert response.status_code == 404
    assert "ZZZZZZZZZZ" not in response.get_data(as_text=True)
    assert _scan(client, community, assembly, "").status_code == 422
    assert _scan(client, community, assembly, "x" * 301).status_code == 422


def test_code_guessing_is_rate_limited_but_check_ins_are_not(desk, client, app):
    community, _ballot, assembly, cards, _households = desk
    app.config["RATELIMIT_CHECKIN"] = "3 per minute"
    for card in cards[:4]:  # successful check-ins do not count against the limit
        assert _scan(client, community, assembly, card.link).status_code == 303
    statuses = [_scan(client, community, assembly, f"GUESS{n}XXXX").status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert _scan(client, community, assembly, cards[5].link).status_code == 429


@pytest.mark.parametrize(
    ("role", "status"), [("clerk", 200), ("organizer", 200), ("reviewer", 403)]
)
def test_desk_roles(hall, client, role, status):
    community, _ballot, assembly, _cards, _households = hall
    factories.user("x", roles=[(community, role)])
    factories.login(client, "x")
    assert client.get(_desk_url(community, assembly)).status_code == status
    assert client.get(_desk_url(community, assembly, "/attendance.json")).status_code == status


def test_desk_answers_a_script_401_json_when_the_login_ended(desk, client):
    """The desk's queue asks for JSON: an ended login is 401 JSON it can act on, not a
    redirect to the login page (which fetch follows to a 200 HTML page); a page is still sent
    to the login form, coming back to the desk afterwards."""
    community, _ballot, assembly, cards, _households = desk
    page = client.get(_desk_url(community, assembly)).get_data(as_text=True)
    token = factories.csrf_token(page)
    client.post("/logout", data={"csrf_token": token})
    answer = client.post(
        _desk_url(community, assembly, "/check-in"),
        data={"csrf_token": token, "code": cards[0].link},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "login_required"
    assert "登录" in answer.get_json()["message"]
    live = client.get(
        _desk_url(community, assembly, "/attendance.json"), headers={"Accept": "application/json"}
    )
    assert live.status_code == 401
    redirected = client.get(_desk_url(community, assembly))
    assert redirected.status_code == 302
    assert redirected.location.startswith("/login?next=")
    assert f"assemblies%2F{assembly.id}" in redirected.location
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0
    # The banner's way back: logging in through the link returns to the desk.
    assert f'href="/login?next=/console/c/{community.slug}/assemblies/{assembly.id}"' in page


def test_a_desk_form_sent_after_the_login_ended_returns_to_the_desk(desk, client):
    """Without JavaScript the desk posts its form: once logged in again the clerk comes back
    to the desk page, not to the POST-only check-in address (a GET there would be refused)."""
    community, _ballot, assembly, cards, _households = desk
    desk_page = _desk_url(community, assembly)
    token = factories.csrf_token(client.get(desk_page).get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    sent = client.post(
        _desk_url(community, assembly, "/check-in"),
        data={"csrf_token": token, "code": cards[0].link},
        headers={"Referer": f"http://localhost{desk_page}"},
    )
    assert sent.status_code == 302
    assert sent.location == "/login?next=" + quote(desk_page, safe="")
    stranger = client.post(
        _desk_url(community, assembly, "/check-in"),
        data={"csrf_token": token, "code": cards[0].link},
        headers={"Referer": "https://elsewhere.example/page"},
    )
    assert stranger.location == "/login?next=%2Fconsole"  # never back to another site
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0


def test_assembly_of_another_community_is_not_found(hall, client):
    _community, _ballot, assembly, _cards, _households = hall
    other = factories.community()
    factories.user("y", roles=[(other, "organizer")])
    factories.login(client, "y")
    assert client.get(_desk_url(other, assembly)).status_code == 404


# --- walk-ins (see tests/checkin/test_walk_ins.py for the second person and the card) -------


def _walk_in(client, community, assembly, voter_key, **extra):
    url = _desk_url(community, assembly, "/walk-in/new")
    page = client.get(_desk_url(community, assembly)).get_data(as_text=True)
    data = {
        "csrf_token": factories.csrf_token(page),
        "voter": voter_key,
        "reason": "card_forgotten",
        "second_username": "second",
        "second_password": factories.PASSWORD,
        **extra,
    }
    return client.post(url, data=data)


def test_walk_in_qr_is_one_time_and_shown_again_on_reload(desk, client):
    community, ballot, assembly, cards, households = desk
    factories.user("second", roles=[(community, "clerk")])
    page = client.get(_desk_url(community, assembly, "/walk-in?q=1栋-1单元-2"))
    assert "1栋-1单元-201" in page.get_data(as_text=True)
    key = f"h{households[1].id}"
    check_in(assembly, cards[1].link)
    db.session.commit()
    response = _walk_in(client, community, assembly, key)
    assert response.status_code == 303  # POST-redirect-GET: the code is a page of its own
    shown = client.get(response.headers["Location"])
    assert shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    (svg,) = svgs_in(html)
    link = decode_svg(svg)
    assert re.fullmatch(r"http://localhost/v/[A-Za-z0-9_-]{22,}", link)
    credential = find_credential(ballot.id, link.rsplit("/", 1)[1])
    assert credential.kind == "walk_in" and credential.voter_key == key
    assert timedelta(minutes=9) < credential.expires_at - utcnow() <= timedelta(minutes=10)
    # Reloading the code's page shows the same code and issues nothing.
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert decode_svg(svgs_in(again)[0]) == link
    assert db.session.scalar(db.select(db.func.count()).where(Credential.kind == "walk_in")) == 1

    # A second code for the same person replaces the first, which stops working.
    second = _walk_in(client, community, assembly, key, reason="card_lost")
    link2 = decode_svg(svgs_in(client.get(second.headers["Location"]).get_data(as_text=True))[0])
    db.session.expire_all()
    assert find_credential(ballot.id, link.rsplit("/", 1)[1]).revoked_at is not None
    assert find_credential(ballot.id, link2.rsplit("/", 1)[1]).revoked_at is None
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 1


def test_walk_in_refused_for_a_voter_who_voted_or_is_not_eligible(desk, client):
    community, ballot, assembly, cards, households = desk
    factories.user("second", roles=[(community, "clerk")])
    check_in(assembly, cards[0].link)
    db.session.add(
        Participation(ballot_id=ballot.id, voter_key=f"h{households[0].id}", channel="online")
    )
    db.session.commit()
    page = client.get(_desk_url(community, assembly, "/walk-in?q=1栋-1单元-101"))
    assert "Give a walk-in code" not in page.get_data(as_text=True)
    response = _walk_in(client, community, assembly, f"h{households[0].id}")
    assert response.status_code == 409
    child_home = factories.household(community, building="7栋", room="701")
    factories.resident(child_home, birth_year=2020)
    assert _walk_in(client, community, assembly, f"h{child_home.id}").status_code == 409
    assert _walk_in(client, community, assembly, "x1").status_code == 302
    kinds = list(db.session.scalars(db.select(Credential.kind).filter_by(kind="walk_in")))
    assert kinds == []


# --- assemblies -------------------------------------------------------------------------------


def test_organizer_creates_edits_and_deletes_an_assembly(hall, client):
    community, ballot, _assembly, _cards, _households = hall
    factories.user("org", roles=[(community, "organizer")])
    factories.login(client, "org")
    url = f"/console/c/{community.slug}/assemblies/new"
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    data = {
        "csrf_token": token,
        "ballot": str(ballot.id),
        "title": "春季议事会",
        "place": "二楼会议室",
        "starts_at": "2026-04-01T19:30",
    }
    response = client.post(url, data=data)
    assert response.status_code == 303
    from civicvote.checkin.models import Assembly

    created = db.session.scalar(db.select(Assembly).filter_by(title="春季议事会"))
    assert created.starts_at.hour == 11  # 19:30 in Shanghai is 11:30 UTC
    edit = f"/console/c/{community.slug}/assemblies/{created.id}/edit"
    assert "2026-04-01T19:30" in client.get(edit).get_data(as_text=True)
    assert client.post(edit, data={**data, "title": ""}).status_code == 422
    assert client.post(edit, data={**data, "starts_at": "tomorrow"}).status_code == 422
    other_ballot = factories.ballot(factories.funding_round(factories.community()))
    assert client.post(edit, data={**data, "ballot": str(other_ballot.id)}).status_code == 422
    delete = f"/console/c/{community.slug}/assemblies/{created.id}/delete"
    assert client.post(delete, data={"csrf_token": token}).status_code == 303
    assert db.session.scalar(db.select(Assembly.id).filter_by(id=created.id)) is None
    actions = {e.action for e in db.session.scalars(db.select(AuditEvent))}
    assert {"assembly.create", "assembly.delete"} <= actions


def test_assembly_with_check_ins_cannot_be_deleted(hall, client):
    community, _ballot, assembly, cards, _households = hall
    check_in(assembly, cards[0].token)
    db.session.commit()
    factories.user("org", roles=[(community, "organizer")])
    factories.login(client, "org")
    token = factories.csrf_token(
        client.get(f"/console/c/{community.slug}/assemblies").get_data(as_text=True)
    )
    response = client.post(
        f"/console/c/{community.slug}/assemblies/{assembly.id}/delete", data={"csrf_token": token}
    )
    assert response.status_code == 409


def test_clerks_cannot_manage_assemblies(hall, client):
    community, _ballot, assembly, _cards, _households = hall
    factories.user("c", roles=[(community, "clerk")])
    factories.login(client, "c")
    assert client.get(f"/console/c/{community.slug}/assemblies").status_code == 200
    assert client.get(f"/console/c/{community.slug}/assemblies/new").status_code == 403
    assert (
        client.get(f"/console/c/{community.slug}/assemblies/{assembly.id}/edit").status_code == 403
    )


def test_walk_in_check_in_without_a_phone(desk, client):
    community, _ballot, assembly, _cards, households = desk
    key = f"h{households[4].id}"
    url = _desk_url(community, assembly, "/walk-in")
    page = client.get(url + "?q=2栋").get_data(as_text=True)
    assert "/walk-in/check-in" in page
    response = client.post(
        url + "/check-in", data={"csrf_token": factories.csrf_token(page), "voter": key}
    )
    assert response.status_code == 303
    assert db.session.scalar(db.select(CheckIn).filter_by(voter_key=key)).credential_id is None
    assert client.post(url + "/check-in", data={"voter": key}).status_code == 400  # no CSRF


def test_assemblies_page_shows_quorum_and_threshold(hall, client):
    community, _ballot, assembly, cards, _households = hall
    check_in(assembly, cards[0].token)
    db.session.commit()
    factories.user("org", roles=[(community, "organizer")])
    factories.login(client, "org")
    page = client.get(f"/console/c/{community.slug}/assemblies").get_data(as_text=True)
    assert "1 / 6" in page and "50%" in page


# --- the time of a scan queued at an offline desk (issue 18) ------------------------------------


def _stored(assembly) -> list:
    return list(
        db.session.scalars(
            db.select(CheckIn.checked_in_at).filter_by(assembly_id=assembly.id).order_by(CheckIn.id)
        )
    )


def _opened(assembly, ago: timedelta) -> None:
    assembly.starts_at = utcnow().replace(microsecond=0) - ago
    db.session.commit()


def test_a_queued_scan_keeps_its_time(hall):
    _community, _ballot, assembly, cards, _households = hall
    _opened(assembly, timedelta(hours=1))
    taken = utcnow().replace(microsecond=0) - timedelta(minutes=7)
    result = check_in(assembly, cards[0].link, scanned_at=taken)
    assert result.checked_in_at == taken
    assert _stored(assembly) == [taken]


@pytest.mark.parametrize(
    "offset",
    [timedelta(minutes=5), timedelta(hours=-2)],
    ids=["in-the-future", "before-the-assembly-opened"],
)
def test_an_insane_scan_time_gives_way_to_the_arrival_time(hall, offset):
    _community, _ballot, assembly, cards, _households = hall
    _opened(assembly, timedelta(hours=1))
    before = utcnow().replace(microsecond=0)
    check_in(assembly, cards[0].link, scanned_at=utcnow() + offset)
    (stored,) = _stored(assembly)
    assert before <= stored <= utcnow()


@pytest.mark.parametrize(
    "text", ["", None, "yesterday", "2026-05-01T09:00:00", "9" * 41, "2026-13-01T09:00:00Z"]
)
def test_unreadable_or_zoneless_scan_times_are_ignored(text):
    assert parse_scan_time(text) is None


def test_scan_times_from_the_browser_are_read_as_utc():
    parsed = parse_scan_time("2026-05-01T09:00:00.250Z")
    assert parsed.isoformat() == "2026-05-01T09:00:00.250000"
    assert parse_scan_time("2026-05-01T17:00:00+08:00").isoformat() == "2026-05-01T09:00:00"


def test_desk_posts_the_scan_time_and_bad_ones_never_fail_the_check_in(desk, client):
    community, _ballot, assembly, cards, _households = desk
    _opened(assembly, timedelta(hours=1))
    taken = utcnow().replace(microsecond=0) - timedelta(minutes=3)
    for card, sent in ((cards[0], iso_utc(taken)), (cards[1], "garbage" * 20)):
        page = client.get(_desk_url(community, assembly)).get_data(as_text=True)
        response = client.post(
            _desk_url(community, assembly, "/check-in"),
            data={
                "csrf_token": factories.csrf_token(page),
                "code": card.short_code,
                "scanned_at": sent,
            },
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 201
    first, second = _stored(assembly)
    assert first == taken
    assert second > taken
