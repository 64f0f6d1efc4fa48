"""The public log and /admin/audit as people read them: pages at any length, sentences in the
reader's language with links, no raw codes, JSON or escapes; the key page; the heads on the
board and the round report."""

import re

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.audit.services import record
from civicvote.extensions import db
from tests import factories

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
ENTRY = re.compile(r'<li class="audit-entry" id="entry-(\d+)">')
RAW_CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b|\b[a-z]+_[a-z_]+ #\d")


def _entry_ids(page: str) -> list[int]:
    return [int(n) for n in ENTRY.findall(page)]


def _log(page: str) -> str:
    """The entries part of a page, tags removed: what a reader reads."""
    found = re.search(r'<ol class="audit-log">.*?</ol>', page, re.S)
    assert found, "no entries on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0)))


@pytest.fixture
def long_log(app):
    """260 public entries about one need of a community, and 15 staff-only ones between them."""
    place = factories.community()
    round_ = factories.funding_round(place)
    need = factories.need(place, round_, title="路灯坏了")
    organizer = factories.user("wangfang", display_name="王芳", roles=[(place, "organizer")])
    for n in range(260):
        record(
            "need.accept" if n % 2 else "need.decline",
            "need",
            need.id,
            actor=organizer,
            community_id=place.id,
            before={"status": "new"},
            after={"status": "accepted"},
            public=True,
        )
        if n % 20 == 0:
            record("user.password", "user", organizer.id, actor=organizer, community_id=place.id)
    db.session.commit()
    return place, need


@pytest.mark.parametrize(
    "page, first, count, newer, older",
    [(1, 273, 50, False, True), (3, None, 50, True, True), (6, None, 10, True, False)],
)
def test_public_log_pages_first_middle_last(client, long_log, page, first, count, newer, older):
    place, _need = long_log
    response = client.get(f"/c/{place.slug}/log?page={page}", headers=ZH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    ids = _entry_ids(html)
    assert len(ids) == count
    assert ids == sorted(ids, reverse=True)  # newest first
    if first:
        assert ids[0] == first
    public = sorted(
        db.session.scalars(db.select(AuditEvent.id).filter_by(public=True)), reverse=True
    )
    assert ids == public[(page - 1) * 50 : page * 50]
    assert f"第 {page} 页，共 6 页" in html
    assert (f"page={page - 1}" in html) is newer
    assert (f"page={page + 1}" in html) is older


@pytest.mark.parametrize("page", ["7", "0", "-1", "abc", "9999999", "²", "１"])
def test_pages_past_the_log_answer_404_not_500(client, long_log, page):
    place, _need = long_log
    assert client.get(f"/c/{place.slug}/log?page={page}").status_code == 404


def test_an_empty_log_has_its_first_page_only(client, app):
    # The demo's log was empty and answered 500 on ?page=2.
    place = factories.community()
    first = client.get(f"/c/{place.slug}/log", headers=ZH)
    assert first.status_code == 200
    assert "暂无记录" in first.get_data(as_text=True)
    assert client.get(f"/c/{place.slug}/log?page=2").status_code == 404


def test_public_log_reads_as_sentences_with_links(client, long_log):
    place, need = long_log
    html = client.get(f"/c/{place.slug}/log", headers=ZH).get_data(as_text=True)
    text = _log(html)
    assert "组织者 王芳 采纳了居民需求「路灯坏了」" in text
    assert "组织者 王芳 决定不予采纳居民需求「路灯坏了」" in text
    assert f'href="/c/{place.slug}/needs/{need.id}"' in html
    assert not RAW_CODE.search(text), RAW_CODE.search(text)
    assert "{" not in text and "\\u" not in text
    assert "修改了自己的密码" not in text  # staff-only entries stay off the public log
    english = _log(client.get(f"/c/{place.slug}/log", headers=EN).get_data(as_text=True))
    assert "Organizer 王芳 accepted the need “路灯坏了”" in english


def test_user_text_in_sentences_is_escaped(client, app):
    place = factories.community()
    round_ = factories.funding_round(place)
    need = factories.need(place, round_, title="<script>alert(1)</script>")
    record("need.accept", "need", need.id, community_id=place.id, public=True)
    db.session.commit()
    html = client.get(f"/c/{place.slug}/log").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_removed_object_keeps_its_name_from_the_entry(client, app):
    place = factories.community()
    record(
        "fund_source.remove",
        "fund_source",
        999,
        community_id=place.id,
        before={"name": "慈善基金会", "amount_fen": 100},
        public=True,
    )
    record("ballot.close", "ballot", 998, community_id=place.id, public=True)
    db.session.commit()
    text = _log(client.get(f"/c/{place.slug}/log", headers=ZH).get_data(as_text=True))
    assert "系统 删除了资金来源「慈善基金会」" in text
    assert "系统 结束了投票「投票」" in text  # nothing left to name it by: what it was


def test_admin_log_pages_filters_and_readable_changes(client, long_log):
    place, need = long_log
    assert client.get("/admin/audit").status_code == 302
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    first = client.get("/admin/audit", headers=ZH)
    assert first.status_code == 200
    assert len(_entry_ids(first.get_data(as_text=True))) == 50
    last = client.get("/admin/audit?page=6&object_type=need", headers=ZH)
    html = last.get_data(as_text=True)
    assert last.status_code == 200 and "第 6 页，共 6 页" in html
    assert "object_type=need" in html and "page=5" in html  # the filter stays when paging
    assert client.get("/admin/audit?page=7&object_type=need").status_code == 404
    assert client.get("/admin/audit?community=²&object_type=bogus").status_code == 200
    text = _log(html)
    assert "状态: 已收到，待处理 → 已采纳" in text
    assert not RAW_CODE.search(text), RAW_CODE.search(text)
    assert "{" not in text and "\\u" not in text
    users = client.get("/admin/audit?object_type=user", headers=ZH).get_data(as_text=True)
    assert "组织者 王芳 修改了自己的密码" in _log(users)
    assert "仅工作人员可见" in users
    assert f'href="/console/c/{place.slug}/needs/{need.id}"' in first.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit/1"])
def test_only_administrators_read_the_whole_log(client, long_log, path):
    place, _need = long_log
    assert client.get(path).status_code == 302  # to the login page
    factories.user("clerk1", roles=[(place, "clerk")])
    factories.login(client, "clerk1")
    assert client.get(path).status_code == 403


def test_admin_entry_page_shows_every_value(client, app):
    place = factories.community()
    residents = {f"R{n:05d}": {"name": f"居民{n}", "eligible": True} for n in range(150)}
    event = record(
        "registry.import",
        "community",
        place.id,
        community_id=place.id,
        after={"created": 150, "updated": 0, "made_ineligible": [], "residents": residents},
    )
    db.session.commit()
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    listing = client.get("/admin/audit", headers=ZH).get_data(as_text=True)
    assert "……另有 50 项" in listing  # the list shows the first hundred residents
    page = client.get(f"/admin/audit/{event.id}", headers=ZH).get_data(as_text=True)
    assert "R00149" in page and "居民149" in page and "另有" not in page
    assert "导入了「" in page and "新增 150 人" in page
    assert client.get("/admin/audit/999").status_code == 404


def test_public_key_page_and_pem(client, app):
    from civicvote.audit.signing import fingerprint, parse_public_key

    page = client.get("/audit/public-key", headers=ZH)
    assert page.status_code == 200
    pem = client.get("/audit/public-key.pem")
    assert pem.status_code == 200
    key = parse_public_key(pem.get_data(as_text=True))
    assert fingerprint(key) in page.get_data(as_text=True)
    assert "openssl pkeyutl -verify" in page.get_data(as_text=True)


def test_board_and_report_show_the_latest_head(client, app):
    place = factories.community()
    round_ = factories.funding_round(place)
    assert "记录链头" not in client.get(f"/c/{place.slug}/board", headers=ZH).get_data(as_text=True)
    record("ballot.open", "ballot", 1, community_id=place.id, public=True)
    record("ballot.close", "ballot", 1, community_id=place.id, public=True)
    other = factories.community()
    record("ballot.open", "ballot", 2, community_id=other.id, public=True)
    db.session.commit()
    ours = db.session.get(AuditEvent, 2).hash
    board = client.get(f"/c/{place.slug}/board", headers=ZH).get_data(as_text=True)
    assert "记录链头" in board and ours in board
    assert db.session.get(AuditEvent, 3).hash not in board  # another community's milestone
    report = client.get(f"/c/{place.slug}/rounds/{round_.id}/report", headers=ZH)
    assert report.status_code == 200
    html = report.get_data(as_text=True)
    assert ours in html and "当时记录共 2 条" in html and "投票结束时" in html
    log = client.get(f"/c/{place.slug}/log", headers=ZH).get_data(as_text=True)
    assert "最新链头" in log and ours in log
