"""Every CSV the app writes keeps text as text: no cell a spreadsheet would run as a formula."""

import csv
import io

import pytest

from civicvote.csvsafe import safe_cell
from civicvote.extensions import db
from tests import factories

FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_starts_are_prefixed(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["需求", "a=b", "", 5, -3, 2.5, None])
def test_other_cells_are_left_alone(value):
    assert safe_cell(value) == value


def test_the_needs_export_carries_no_formulas(client):
    """Fails on the old code: text from the anonymous need form came back as live formulas."""
    place = factories.community()
    funding_round = factories.funding_round(place)
    for text in FORMULAS:
        factories.need(place, funding_round, title=text, description=text)
    answer = client.get(  # in English the header row keeps the field names
        f"/c/{place.slug}/rounds/{funding_round.id}/export/needs.csv",
        headers={"Accept-Language": "en"},
    )
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    titles = sorted(row["title"] for row in rows)
    assert titles == sorted("'" + text for text in FORMULAS)
    for row in rows:
        assert not any(
            str(cell).startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values()
        )


def test_the_card_file_carries_no_formulas(app, runner, tmp_path):
    """Fails on the old code: registry text came back as formulas in the card CSV."""
    place = factories.community()
    funding_round = factories.funding_round(place)
    home = factories.registry(place, buildings=1, rooms=1)[0]
    home.building = "=cmd|' /C calc'!A0"
    db.session.commit()
    ballot = factories.ballot(funding_round, status="draft")
    out = tmp_path / "cards.csv"
    result = runner.invoke(
        args=["credentials", "issue", "--ballot", str(ballot.id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0].startswith("'=cmd")
