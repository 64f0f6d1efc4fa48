"""The public pages, locales, CSRF, and the JSON API basics."""

import pytest

from tests import factories


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    assert "社区资金怎么花，居民说了算" in page


@pytest.mark.parametrize("header", ["en", "en-US,en;q=0.9", "fr;q=0.9, en;q=0.5"])
def test_home_follows_accept_language(client, header):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Residents decide how the community fund is spent" in page


def test_chinese_accept_language_variants(client):
    for header in ("zh-CN", "zh-TW,zh;q=0.8", "zh"):
        page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert '<html lang="zh-Hans">' in page


def test_switcher_choice_beats_accept_language(client):
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    client.get("/lang/zh_Hans")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page


def test_switcher_refuses_open_redirects(client):
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_unknown_language_is_ignored(client):
    client.get("/lang/xx")
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)


def test_login_form_has_csrf_token_and_refuses_post_without_it(client):
    page = client.get("/login").get_data(as_text=True)
    assert factories.csrf_token(page)
    response = client.post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_money_is_formatted_in_both_locales(client):
    place = factories.community(slug="xfl", name="幸福里")
    factories.funding_round(place, budget_fen=20_000_050)
    zh = client.get("/c/xfl").get_data(as_text=True)
    assert "¥200,000.50" in zh
    en = client.get("/c/xfl", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "¥200,000.50" in en
    assert "CN¥" not in en


def test_unknown_pages_are_404_in_html_and_json(client):
    assert client.get("/c/nowhere").status_code == 404
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.is_json and response.json["error"] == "not_found"


def test_api_lists_communities_and_rounds(client):
    place = factories.community(slug="xfl", name="幸福里")
    other = factories.community(slug="fq", name="枫桥")
    first = factories.funding_round(place)
    communities = client.get("/api/v1/communities").json["communities"]
    assert [c["name"] for c in communities] == ["幸福里", "枫桥"]
    assert communities[0]["url"].endswith("/c/xfl")
    assert communities[0]["round_ids"] == [first.id]
    assert communities[1]["id"] == other.id
    rounds = client.get("/api/v1/rounds").json["rounds"]
    assert rounds[0]["id"] == first.id
    assert rounds[0]["community_id"] == place.id
    assert rounds[0]["name"] == "2026年度"
    assert rounds[0]["ballot_ids"] == []
    assert rounds[0]["budget_fen"] == 20_000_000


def test_api_answers_carry_etags_and_cors(client):
    factories.community()
    first = client.get("/api/v1/communities")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    etag = first.headers["ETag"]
    again = client.get("/api/v1/communities", headers={"If-None-Match": etag})
    assert again.status_code == 304
    factories.community()
    changed = client.get("/api/v1/communities", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_api_pages_through_lists(client):
    for _ in range(5):
        factories.community()
    body = client.get("/api/v1/communities?per_page=2&page=2").json
    assert len(body["communities"]) == 2
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert "page=3" in body["next"]
    last = client.get("/api/v1/communities?per_page=2&page=3").json
    assert len(last["communities"]) == 1 and "next" not in last


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=1000", "per_page=-1"])
def test_api_refuses_bad_paging(client, query):
    response = client.get(f"/api/v1/communities?{query}")
    assert response.status_code == 422
    assert response.json["error"] == "bad_pagination"


@pytest.mark.parametrize(("needs", "english"), [(1, "1</strong> need<"), (2, "2</strong> needs<")])
def test_counts_in_sentences_follow_the_number(client, needs, english):
    """ngettext: English says "1 need", "2 needs"; Chinese has one form for every number."""
    place = factories.community(slug="ngt")
    funding_round = factories.funding_round(place)
    for _ in range(needs):
        factories.need(place, funding_round)
    page = client.get("/c/ngt/needs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert english in page
    page = client.get("/c/ngt/needs", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert f"{needs}</strong> 条需求<" in page


def test_a_shared_message_counts_characters_in_both_languages(app):
    from flask_babel import force_locale

    from civicvote.errors import too_long

    with app.test_request_context():
        with force_locale("en"):
            assert str(too_long(1).message) == "This text is too long (at most 1 character)."
            assert str(too_long(80).message) == "This text is too long (at most 80 characters)."
        with force_locale("zh_Hans"):
            assert str(too_long(80).message) == "内容太长（最多80个字）。"
