"""An answer to an objection is amended only visibly: the answer form, sent again, never replaces
a published answer; "修改答复" publishes a new version and every earlier one stays listed.

On the old code the next submit of the still-visible answer form silently replaced the published
answer: every test here fails there.
"""

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.errors import Conflict, DomainError
from civicvote.extensions import db
from civicvote.i18n import LOCALE_COOKIE
from civicvote.results import objections, services
from tests import factories
from tests.results.test_results import _closed_ballot


@pytest.fixture
def objection(app):
    funding_round, ballot, _ids = _closed_ballot([[0], [1]])
    organizer = factories.user("chair", roles=[(funding_round.community, "organizer")])
    run = services.run_allocation(funding_round, ballot, actor=organizer)
    filed = services.file_objection(run, "2号项目应优先", contact="王")
    return funding_round, run, filed, organizer


def test_a_published_answer_changes_only_by_amendment(objection):
    _round, _run, filed, organizer = objection
    objections.answer_objection(filed, "按票数排序。", actor=organizer)
    with pytest.raises(Conflict) as again:
        objections.answer_objection(filed, "另一个答复", actor=organizer)
    assert again.value.code == "answered"
    db.session.rollback()
    assert filed.answer == "按票数排序。"
    with pytest.raises(Conflict) as stale:
        objections.amend_answer(filed, "更正：按票数排序，规则已公示。", version=0, actor=organizer)
    assert stale.value.code == "stale"
    db.session.rollback()
    with pytest.raises(DomainError):
        objections.amend_answer(filed, "按票数排序。", version=1, actor=organizer)
    db.session.rollback()
    objections.amend_answer(filed, "更正：按票数排序，规则已公示。", version=1, actor=organizer)
    assert filed.answer == "更正：按票数排序，规则已公示。"
    assert [a.text for a in filed.answers] == ["按票数排序。", "更正：按票数排序，规则已公示。"]
    assert [a.text for a in filed.earlier_answers] == ["按票数排序。"]
    actions = list(
        db.session.scalars(
            db.select(AuditEvent.action)
            .where(AuditEvent.action.startswith("objection"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["objection.answer", "objection.amend"]


def test_resending_the_answer_form_keeps_the_answer_and_the_history_is_public(objection, client):
    funding_round, _run, filed, _organizer = objection
    place = funding_round.community
    url = f"/console/c/{place.slug}/rounds/{funding_round.id}/allocation"
    factories.login(client, "chair")
    client.set_cookie(LOCALE_COOKIE, "en")
    page = client.get(url).get_data(as_text=True)
    form = {
        "action": "answer",
        "objection": filed.id,
        "ans-csrf_token": factories.csrf_token(page),
        "ans-answer": "第一版答复",
    }
    assert client.post(url, data=form).status_code == 302
    resent = client.post(url, data={**form, "ans-answer": "悄悄替换"})  # back, edit, send
    assert resent.status_code == 409
    page = client.get(url).get_data(as_text=True)
    assert "Amend the answer" in page and 'name="ans-answer"' not in page
    amended = client.post(
        url,
        data={
            "action": "amend",
            "objection": filed.id,
            "amend-csrf_token": factories.csrf_token(page),
            "amend-version": "1",
            "amend-answer": "第二版答复",
        },
    )
    assert amended.status_code == 302
    public = client.get(f"/c/{place.slug}/rounds/{funding_round.id}/results").get_data(as_text=True)
    assert "第二版答复" in public and "第一版答复" in public and "悄悄替换" not in public
    assert "The answer was amended once" in public
    data = client.get(f"/api/v1/rounds/{funding_round.id}/allocation").get_json()
    (shown,) = data["objections"]
    assert shown["answer"] == "第二版答复"
    assert [a["text"] for a in shown["earlier_answers"]] == ["第一版答复"]
    client.delete_cookie(LOCALE_COOKIE)
    zh = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "修改答复" in zh
