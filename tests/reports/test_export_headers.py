"""The open data files in the reader's language: a Chinese CSV names its columns and coded
values in Chinese; the English CSV and the JSON keep the field names programs read."""

import csv
import io
import json
import re
from datetime import date

from civicvote.delivery.services import (
    add_milestone,
    funded_allocation,
    post_progress,
    record_spending,
)
from civicvote.extensions import db
from civicvote.proposals.models import Proposal
from civicvote.reports.columns import COLUMN_LABELS
from civicvote.reports.services import EXPORTS
from tests import factories
from tests.reports.test_reports import _finished_round

ASCII_WORD = re.compile(r"[A-Za-z]{2,}")


def _delivered_round():
    """A finished round whose first funded project has a milestone, a report and a payment."""
    funding_round, ballot, ids = _finished_round()
    proposal = db.session.get(Proposal, ids[0])
    actor = factories.user()
    add_milestone(proposal, "开工", date(2026, 5, 1), actor=actor)
    post_progress(proposal, "树苗已种", 40, photo=None, actor=actor)
    allocation = funded_allocation(proposal.id)
    record_spending(
        proposal,
        allocation,
        spent_on=date(2026, 5, 2),
        item="材料",
        amount_fen=50_000,
        payee="供应商",
        line_item_id=None,
        fund_source_id=int(next(iter(allocation.funding_by_source))),
        receipt=None,
        actor=actor,
    )
    return funding_round


def _csv(client, funding_round, table: str, language: str) -> list[list[str]]:
    slug = funding_round.community.slug
    answer = client.get(
        f"/c/{slug}/rounds/{funding_round.id}/export/{table}.csv",
        headers={"Accept-Language": language},
    )
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "Accept-Language" in answer.headers["Vary"]
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


def _json(client, funding_round, table: str, language: str) -> list[dict]:
    slug = funding_round.community.slug
    answer = client.get(
        f"/c/{slug}/rounds/{funding_round.id}/export/{table}.json",
        headers={"Accept-Language": language},
    )
    return json.loads(answer.get_data(as_text=True))[table]


def test_chinese_csv_headers_are_chinese_and_json_keeps_its_field_names(client):
    funding_round = _delivered_round()
    filled = 0
    for table in EXPORTS:
        rows = _json(client, funding_round, table, "zh-CN")
        assert rows == _json(client, funding_round, table, "en"), table  # JSON never changes
        chinese = _csv(client, funding_round, table, "zh-CN")
        english = _csv(client, funding_round, table, "en")
        if not rows:
            assert chinese == english == [], table
            continue
        filled += 1
        fields = list(rows[0])
        assert english[0] == fields, table  # the English CSV: the JSON's field names, as before
        assert len(chinese[0]) == len(fields), table
        for field, header in zip(fields, chinese[0], strict=True):
            assert header and not ASCII_WORD.search(header), (table, field, header)
        assert len(chinese) == len(english) == len(rows) + 1, table
    assert filled >= 8  # every table but ratings (no evaluation yet) has rows


def test_chinese_csv_values_read_as_words(client):
    funding_round = _delivered_round()
    needs = _csv(client, funding_round, "needs", "zh-CN")
    header = needs[0]
    assert header[:3] == ["编号", "轮次编号", "标题"]
    status, channel = header.index("状态"), header.index("提交方式")
    assert sorted(row[status] for row in needs[1:]) == sorted(
        ["已收到，待处理", "已采纳", "已采纳"]
    )
    assert sorted(row[channel] for row in needs[1:]) == sorted(["线上", "线上", "纸质表格"])

    allocation = _csv(client, funding_round, "allocation", "zh-CN")
    header = allocation[0]
    funded = [row[header.index("获得资助")] for row in allocation[1:]]
    assert funded == ["是", "是", "否"]
    assert {row[header.index("状态")] for row in allocation[1:]} == {"最终结果"}
    reasons = [row[header.index("原因")] for row in allocation[1:]]
    assert reasons[:2] == ["获得资助", "获得资助"] and reasons[2].startswith("未获资助")

    english = _csv(client, funding_round, "allocation", "en")
    assert [row[english[0].index("funded")] for row in english[1:]] == ["True", "True", "False"]
    assert {row[english[0].index("status")] for row in english[1:]} == {"final"}


def test_every_column_has_a_chinese_header(app):
    """Columns of tables that had no rows above (ratings) are named too."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh_Hans"):
        for field, label in COLUMN_LABELS.items():
            assert not ASCII_WORD.search(str(label)), (field, str(label))
