"""The printable round report and the open data exports."""

import json

from flask import abort, make_response, render_template
from flask_babel import gettext as _

from ..board.charts import bars
from ..communities.services import get_community
from ..extensions import db
from ..i18n import money, number
from ..intake.models import CHANNEL_LABELS
from ..results.explanations import explanation
from ..results.services import latest_run
from ..rounds.models import FundingRound
from . import bp
from .columns import export_label
from .services import EXPORTS, export_csv, export_rows, round_report


def _round(slug: str, round_id: int):
    community = get_community(slug)
    funding_round = db.session.get(FundingRound, round_id) if community else None
    if funding_round is None or funding_round.community_id != community.id:
        abort(404)
    return community, funding_round


def _bars(pairs, display=number):
    """Bars for (label, value) pairs, values shown with ``display``."""
    return bars([(str(label), int(value), display(value), False) for label, value in pairs])


def _charts(data: dict) -> dict:
    """The report's charts, labelled in the reader's language."""
    stages = {
        "needs": _("Needs submitted"),
        "accepted": _("Needs accepted"),
        "proposals": _("Proposals submitted"),
        "approved": _("Proposals approved"),
        "on_ballot": _("On the ballot"),
        "funded": _("Funded"),
    }
    part = data["participation"]

    def channel(key):
        return str(CHANNEL_LABELS.get(key, key))

    return {
        "funnel": _bars((stages[stage], n) for stage, n in data["funnel"]),
        "needs_by_channel": _bars(
            (channel(k), v) for k, v in sorted(part["needs_by_channel"].items())
        ),
        "votes_by_channel": _bars(
            (channel(k), v) for k, v in sorted(part["votes_by_channel"].items())
        ),
        "votes_by_building": _bars(part["votes_by_building"].items()),
        "by_category": _bars(data["money"]["by_category"].items(), money),
    }


@bp.get("/c/<slug>/rounds/<int:round_id>/report")
def report(slug: str, round_id: int):
    community, funding_round = _round(slug, round_id)
    data = round_report(funding_round)
    return render_template(
        "reports/report.html",
        community=community,
        data=data,
        charts=_charts(data),
        explained=explanation(latest_run(funding_round.id)),
        exports=[(table, *export_label(table)) for table in EXPORTS],
    )


@bp.get("/c/<slug>/rounds/<int:round_id>/export/<table>.<fmt>")
def export(slug: str, round_id: int, table: str, fmt: str):
    """One public table of the round as CSV or JSON (open data, readable from any origin)."""
    _community, funding_round = _round(slug, round_id)
    if table not in EXPORTS or fmt not in ("csv", "json"):
        abort(404)
    if fmt == "json":
        rows = export_rows(funding_round, table)
        response = make_response(
            json.dumps({"round_id": round_id, table: rows}, ensure_ascii=False, default=str)
        )
        response.mimetype = "application/json"
    else:
        response = make_response(export_csv(funding_round, table))
        response.mimetype = "text/csv"
        response.vary.add("Accept-Language")  # the header row follows the reader's language
        response.vary.add("Cookie")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="round{round_id}_{table}.csv"'
        )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
