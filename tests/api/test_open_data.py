"""The read-only open data API: what it shows, what it never shows, paging, ETags, CORS."""

import json
import re

from tests.api.seed import public_data


def get(client, path, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code, response.data[:300])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def test_communities_link_their_board(client):
    data = public_data()
    body = get(client, "/api/v1/communities")
    first = next(c for c in body["communities"] if c["id"] == data["community"].id)
    assert first["board_url"] == f"http://localhost/c/{data['community'].slug}/board"
    assert client.get(first["board_url"]).status_code == 200
    assert get(client, f"/api/v1/communities/{data['community'].id}") == first
    assert first["round_ids"] == [data["round"].id]


def test_round_detail_has_phases_budget_sources_categories_ballots(client):
    data = public_data()
    body = get(client, f"/api/v1/rounds/{data['round'].id}")
    assert body["phase"] == "delivery" and body["phases"][0] == "intake"
    assert body["phase"] in body["phases"]
    assert body["budget_fen"] == 20_000_000
    assert body["fund_sources"][0]["amount_fen"] == 20_000_000
    assert [c["code"] for c in body["categories"]] == ["elderly", "greening"]
    assert set(body["ballot_ids"]) == {
        data[name].id for name in ("closed", "hidden", "live", "yes_no")
    }
    assert body in get(client, "/api/v1/rounds")["rounds"]


def test_needs_never_show_contacts_or_tracking_codes(client):
    data = public_data()
    response = client.get(f"/api/v1/rounds/{data['round'].id}/needs")
    text = response.get_data(as_text=True)
    assert "13800000000" not in text and data["need"].tracking_code not in text
    body = response.get_json()
    assert {n["id"] for n in body["needs"]} == {data["need"].id, data["declined"].id}
    assert body["counts"]["total"] == 2 and body["total"] == 2
    declined = get(client, f"/api/v1/rounds/{data['round'].id}/needs?status=declined")
    assert [n["decline_reason"] for n in declined["needs"]] == ["重复"]


def test_proposals_are_public_versions_only(client):
    data = public_data()
    body = get(client, f"/api/v1/rounds/{data['round'].id}/proposals")
    ids = [p["id"] for p in body["proposals"]]
    assert data["project"].id in ids and data["draft"].id not in ids
    assert "草稿项目" not in json.dumps(body, ensure_ascii=False)
    assert get(client, f"/api/v1/proposals/{data['project'].id}")["total_fen"] == 2000_00
    assert client.get(f"/api/v1/proposals/{data['draft'].id}").status_code == 404


def test_ballot_turnout_and_results_only_when_visible(client):
    data = public_data()
    hidden = get(client, f"/api/v1/ballots/{data['hidden'].id}")
    assert hidden["status"] == "open" and hidden["mode"] == "online"
    # While voting, figures move in batches of 10 ballots (tests/board/test_live_batches.py).
    assert hidden["turnout"]["cast"] == 0
    assert hidden["results_visible"] is False and hidden["results"] is None
    live = get(client, f"/api/v1/ballots/{data['live'].id}")
    assert live["turnout"]["cast"] == 0
    votes = {row["proposal_id"]: row["votes"] for row in live["results"]}
    items = [item.proposal_id for item in data["live"].items]
    assert votes == {items[0]: 0, items[1]: 0, items[2]: 0}
    yes_no = get(client, f"/api/v1/ballots/{data['yes_no'].id}")
    assert all(row["no_votes"] == 0 for row in yes_no["results"])
    listing = get(client, f"/api/v1/rounds/{data['round'].id}/ballots")
    assert {b["id"] for b in listing["ballots"]} >= {data["hidden"].id, data["live"].id}
    assert next(b for b in listing["ballots"] if b["id"] == data["hidden"].id)["results"] is None


def test_voter_data_never_appears(client):
    data = public_data()
    dump = json.dumps(
        [
            get(client, f"/api/v1/ballots/{data['live'].id}"),
            get(client, f"/api/v1/rounds/{data['round'].id}/ballots"),
        ]
    )
    for secret in ("voter_key", "token", "credential", "receipt_code", "contact"):
        assert secret not in dump
    for receipt in data["receipts"]:
        assert receipt not in dump


def test_funded_projects_with_progress(client):
    data = public_data()
    body = get(client, f"/api/v1/rounds/{data['round'].id}/funded-projects")
    (project,) = body["projects"]
    assert project["proposal_id"] == data["project"].id
    assert project["amount_fen"] == 2000_00
    assert project["funding_by_source"] == [
        {"fund_source_id": data["round"].fund_sources[0].id, "amount_fen": 2000_00}
    ]
    assert project["progress"]["milestones_done"] == 1
    assert project["progress"]["milestones_total"] == 2
    assert project["progress"]["percent"] == 50
    assert project["progress"]["reported_percent"] == 40
    assert [m["actual_date"] for m in project["milestones"]] == ["2026-05-03", None]


def test_unknown_ids_are_json_404(client):
    public_data()
    for path in (
        "/api/v1/communities/999999",
        "/api/v1/rounds/999999",
        "/api/v1/rounds/999999/needs",
        "/api/v1/rounds/999999/proposals",
        "/api/v1/rounds/999999/ballots",
        "/api/v1/rounds/999999/funded-projects",
        "/api/v1/proposals/999999",
        "/api/v1/ballots/999999",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]


def test_lists_page_and_refuse_bad_pages(client):
    data = public_data()
    path = f"/api/v1/rounds/{data['round'].id}/ballots"
    first = get(client, f"{path}?per_page=3")
    assert len(first["ballots"]) == 3 and first["total"] == 4 and first["pages"] == 2
    second = get(client, first["next"])
    assert len(second["ballots"]) == 1 and "next" not in second
    for query in ("page=0", "per_page=201", "page=x"):
        assert client.get(f"{path}?{query}").status_code == 422


def test_etags_and_preflight(client):
    data = public_data()
    path = f"/api/v1/ballots/{data['live'].id}"
    etag = client.get(path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    preflight = client.options(
        path, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_draft_ballots_stay_with_the_organizers(client):
    from tests import factories

    data = public_data()
    draft = factories.ballot(data["round"], proposals=1, status="draft", title="尚未公布")
    assert client.get(f"/api/v1/ballots/{draft.id}").status_code == 404
    listed = get(client, f"/api/v1/rounds/{data['round'].id}/ballots")["ballots"]
    assert draft.id not in {b["id"] for b in listed} and listed
    assert draft.id not in get(client, f"/api/v1/rounds/{data['round'].id}")["ballot_ids"]


def _times(value, key=""):
    """Every value under a key naming a time (``*_at``, ``at``), anywhere in an answer."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _times(inner, name)
    elif isinstance(value, list):
        for inner in value:
            yield from _times(inner, key)
    elif key == "at" or key.endswith("_at"):
        yield key, value


def test_every_time_is_utc_iso_8601_with_a_z(client):
    from datetime import datetime

    from civicvote.extensions import db
    from civicvote.proposals.models import Review
    from civicvote.timeutil import ISO_UTC_PATTERN

    data = public_data()
    data["live"].online_opens_at = datetime(2026, 5, 1, 1, 2, 3, 456789)
    db.session.add(Review(proposal_id=data["project"].id, version=1, decision="approve"))
    db.session.commit()
    round_id = data["round"].id
    seen = {}
    for path in (
        f"/api/v1/rounds/{round_id}/needs",
        f"/api/v1/rounds/{round_id}/proposals",
        f"/api/v1/rounds/{round_id}/ballots",
        f"/api/v1/rounds/{round_id}/funded-projects",
        f"/api/v1/rounds/{round_id}/allocation",
    ):
        for key, value in _times(get(client, path)):
            seen.setdefault(key, set()).add(value)
    assert {"created_at", "at", "online_opens_at", "last_update_at", "published_at"} <= set(seen)
    assert "2026-05-01T01:02:03Z" in seen["online_opens_at"]
    pattern = re.compile(ISO_UTC_PATTERN)
    for key, values in seen.items():
        assert all(v is None or pattern.match(v) for v in values), (key, values)
