"""Voter cards: issuing, the printed QR codes decode to the personal links, CLI, revoking."""

import csv
import re

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.extensions import db
from civicvote.registry.credentials import (
    eligible_voters,
    find_credential,
    hash_secret,
    issue_credentials,
    revoke_credentials,
)
from civicvote.registry.models import Credential
from tests import factories
from tests.registry.qr import decode_svg, svgs_in

BASE = "https://vote.example.cn"


@pytest.fixture
def setup(app):
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household", year=2026)
    households = factories.registry(community, buildings=2, rooms=3, per_room=2)
    ballot = factories.ballot(funding_round)
    return community, funding_round, households, ballot


def test_eligibility_age_residence_and_flag(setup):
    community, funding_round, households, ballot = setup
    lonely = factories.household(community, building="9栋", room="901")
    factories.resident(lonely, birth_year=2011)  # 15 in 2026: too young
    moved = factories.household(community, building="9栋", room="902")
    factories.resident(moved, residence_status="moved_out")
    excluded = factories.household(community, building="9栋", room="903")
    factories.resident(excluded, eligible=False)
    unknown = factories.household(community, building="9栋", room="904")
    factories.resident(unknown, birth_year=None)
    turning = factories.household(community, building="9栋", room="905")
    factories.resident(turning, birth_year=2010)  # turns 16 in 2026: may vote
    keys = {v.key for v in eligible_voters(ballot)}
    assert keys == {f"h{h.id}" for h in households} | {f"h{turning.id}"}

    funding_round.vote_unit = "resident"
    db.session.commit()
    assert len(eligible_voters(ballot)) == 2 * len(households) + 1


def test_issue_stores_only_hashes_and_is_once_per_voter(setup):
    community, _round, households, ballot = setup
    cards = issue_credentials(ballot.id, base_url=BASE)
    db.session.commit()
    assert len(cards) == len(households) == 6
    assert [c.voter.building for c in cards] == ["1栋"] * 3 + ["2栋"] * 3
    stored = list(db.session.scalars(db.select(Credential)))
    assert len(stored) == 6
    for card in cards:
        assert len(card.token) >= 22  # 160 bits in base64url
        assert card.link == f"{BASE}/v/{card.token}"
        credential = find_credential(ballot.id, card.token)
        assert credential.voter_key == card.voter.key
        assert find_credential(ballot.id, card.short_code.lower()).id == credential.id
        for row in stored:
            assert card.token not in (row.token_hash, row.short_code_hash)
    assert issue_credentials(ballot.id, base_url=BASE) == []  # nobody is left without one
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="credentials.issue"))
    assert event.after["issued"] == 6
    tokens = {c.token for c in cards}
    for event in db.session.scalars(db.select(AuditEvent)):
        assert not tokens.intersection(re.findall(r"[\w-]{20,}", str(event.after)))


def test_building_batches_and_count(setup):
    community, _round, households, ballot = setup
    first = issue_credentials(ballot.id, "2栋", 2, base_url=BASE)
    assert [c.voter.address for c in first] == ["2栋-1单元-101", "2栋-1单元-201"]
    more = issue_credentials(ballot.id, count=2, base_url=BASE)
    assert [c.voter.address for c in more] == ["1栋-1单元-101", "1栋-1单元-201"]
    rest = issue_credentials(ballot.id, base_url=BASE)
    assert [c.voter.address for c in rest] == ["1栋-1单元-301", "2栋-1单元-301"]


def test_revoked_card_stops_working_and_can_be_replaced(setup):
    community, _round, households, ballot = setup
    card = issue_credentials(ballot.id, count=1, base_url=BASE)[0]
    db.session.commit()
    assert revoke_credentials(ballot.id, secret=card.link) == 1
    db.session.commit()
    assert find_credential(ballot.id, card.token).revoked_at is not None
    again = issue_credentials(ballot.id, count=1, base_url=BASE)
    assert again[0].voter.key == card.voter.key and again[0].token != card.token
    assert revoke_credentials(ballot.id, voter_key=card.voter.key) == 1


def test_printed_qr_codes_decode_to_exactly_the_personal_links(setup):
    """Service level: each card's printed SVG reads back as its own link."""
    from civicvote.qr import qr_svg

    _community, _round, _households, ballot = setup
    cards = issue_credentials(ballot.id, base_url=BASE)
    for card in cards:
        assert decode_svg(str(qr_svg(card.link))) == card.link


def request_key(page: str) -> str:
    """The cards form's one-time key."""
    return re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)


def test_console_sheet_qr_codes_decode_to_live_credentials(setup, client):
    community, _round, households, ballot = setup
    factories.user("org1", roles=[(community, "organizer")])
    factories.login(client, "org1")
    page = client.get(f"/console/c/{community.slug}/ballots/{ballot.id}/cards")
    token = factories.csrf_token(page.get_data(as_text=True))
    issued = client.post(
        f"/console/c/{community.slug}/ballots/{ballot.id}/cards",
        data={
            "csrf_token": token,
            "building": "1栋",
            "count": "",
            "request_key": request_key(page.get_data(as_text=True)),
        },
    )
    assert issued.status_code == 303  # the sheet is a page of its own
    response = client.get(issued.headers["Location"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert 'style="' not in html
    svgs = svgs_in(html)
    assert len(svgs) == 3
    links = [decode_svg(svg) for svg in svgs]
    # Printed in groups, XXXX-XXXX-XX, and typed back with or without the dashes.
    codes = re.findall(r'class="short-code">(\w{4})-(\w{4})-(\w{2})<', html)
    for link, (a, b, c) in zip(links, codes, strict=True):
        assert link.startswith("http://localhost/v/")
        credential = find_credential(ballot.id, link.rsplit("/", 1)[1])
        assert credential is not None and credential.revoked_at is None
        assert find_credential(ballot.id, a + b + c).id == credential.id
        assert find_credential(ballot.id, f"{a}-{b}-{c}").id == credential.id
    assert "1栋-1单元-101" in html and community.name in html
    # Issued once: the cards page now reports them, and cannot show the tokens again.
    again = client.get(f"/console/c/{community.slug}/ballots/{ballot.id}/cards")
    assert not any(link.rsplit("/", 1)[1] in again.get_data(as_text=True) for link in links)


def test_public_base_url_is_used_for_links(setup, client):
    community, _round, _households, ballot = setup
    client.application.config["PUBLIC_BASE_URL"] = "https://pb.example.cn/"
    factories.user("org2", roles=[(community, "organizer")])
    factories.login(client, "org2")
    page = client.get(f"/console/c/{community.slug}/ballots/{ballot.id}/cards")
    html = page.get_data(as_text=True)
    response = client.post(
        f"/console/c/{community.slug}/ballots/{ballot.id}/cards",
        data={
            "csrf_token": factories.csrf_token(html),
            "count": "1",
            "request_key": request_key(html),
        },
        follow_redirects=True,
    )
    (svg,) = svgs_in(response.get_data(as_text=True))
    assert decode_svg(svg).startswith("https://pb.example.cn/v/")


@pytest.mark.parametrize(
    ("role", "status"), [("organizer", 200), ("clerk", 403), ("reviewer", 403), (None, 403)]
)
def test_only_organizers_issue_cards(setup, client, role, status):
    community, _round, _households, ballot = setup
    other = factories.community()
    held_in = community if role else other
    factories.user("u", roles=[(held_in, role or "organizer")])
    factories.login(client, "u")
    assert (
        client.get(f"/console/c/{community.slug}/ballots/{ballot.id}/cards").status_code == status
    )


def test_ballot_of_another_community_is_not_found(setup, client):
    community, _round, _households, ballot = setup
    other = factories.community()
    factories.user("o", roles=[(other, "organizer")])
    factories.login(client, "o")
    assert client.get(f"/console/c/{other.slug}/ballots/{ballot.id}/cards").status_code == 404


def test_cli_issue_writes_csv_once_and_count_issues_more(setup, runner, tmp_path):
    _community, _round, households, ballot = setup
    out = tmp_path / "cards.csv"
    result = runner.invoke(
        args=["credentials", "issue", "--ballot", str(ballot.id), "--count", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["voter", "token", "link"]
    assert len(rows) == 5
    for _voter, token, link in rows[1:]:
        assert link == f"http://localhost/v/{token}"  # the test app's SERVER_NAME
        assert find_credential(ballot.id, token) is not None
    assert [r[0] for r in rows[1:]] == [
        "1栋-1单元-101",
        "1栋-1单元-201",
        "1栋-1单元-301",
        "2栋-1单元-101",
    ]
    stored = {c.token_hash for c in db.session.scalars(db.select(Credential))}
    assert {hash_secret(r[1]) for r in rows[1:]} == stored

    # The same file is never overwritten (the tokens in it could not be recovered).
    again = runner.invoke(
        args=["credentials", "issue", "--ballot", str(ballot.id), "--out", str(out)]
    )
    assert again.exit_code != 0
    more = tmp_path / "more.csv"
    result = runner.invoke(
        args=[
            "credentials",
            "issue",
            "--ballot",
            str(ballot.id),
            "--count",
            "10",
            "--out",
            str(more),
        ]
    )
    assert result.exit_code == 0, result.output
    with more.open(encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 1 + len(households) - 4
    assert db.session.scalar(db.select(db.func.count(Credential.id))) == len(households)


def test_cli_revoke(setup, runner, tmp_path):
    _community, _round, _households, ballot = setup
    card = issue_credentials(ballot.id, count=1, base_url=BASE)[0]
    db.session.commit()
    result = runner.invoke(
        args=["credentials", "revoke", "--ballot", str(ballot.id), "--code", card.short_code]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert find_credential(ballot.id, card.token).revoked_at is not None
    result = runner.invoke(
        args=["credentials", "revoke", "--ballot", str(ballot.id), "--code", card.short_code]
    )
    assert result.exit_code != 0  # already revoked: nothing matched


def test_cli_refuses_unknown_ballot(app, runner, tmp_path):
    result = runner.invoke(
        args=["credentials", "issue", "--ballot", "999", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    ("scanned", "secret"),
    [
        ("https://vote.example.cn/v/AbC-_123xyz\n", "AbC-_123xyz"),
        ("http://127.0.0.1:5000/v/tok?utm=x#frag", "tok"),
        ("  abcde fghjk ", "abcde fghjk"),
        ("", ""),
    ],
)
def test_extract_secret_from_scanner_input(scanned, secret):
    from civicvote.registry.credentials import extract_secret

    assert extract_secret(scanned) == secret


def test_base_url_prefers_the_configured_public_address():
    from civicvote.registry.credentials import base_url_for

    assert base_url_for({"PUBLIC_BASE_URL": "https://a.cn/", "SERVER_NAME": "b"}) == "https://a.cn"
    # Never the request's Host: the configured server name, else the development default.
    assert base_url_for({"PUBLIC_BASE_URL": "", "SERVER_NAME": "b"}) == "http://b"
    assert base_url_for({}) == "http://127.0.0.1:5000"


def test_cli_issue_for_one_building(setup, runner, tmp_path):
    _community, _round, _households, ballot = setup
    out = tmp_path / "b2.csv"
    result = runner.invoke(
        args=[
            "credentials",
            "issue",
            "--ballot",
            str(ballot.id),
            "--building",
            "2栋",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        voters = [row["voter"] for row in csv.DictReader(handle)]
    assert voters == ["2栋-1单元-101", "2栋-1单元-201", "2栋-1单元-301"]


def test_no_cards_for_a_closed_ballot(setup):
    from civicvote.errors import Conflict

    _community, _round, _households, ballot = setup
    ballot.status = "closed"
    db.session.commit()
    with pytest.raises(Conflict):
        issue_credentials(ballot.id, base_url=BASE)
