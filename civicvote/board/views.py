"""The public board (kiosk screens and phones) and the presenter's control."""

from flask import abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import ORGANIZER
from ..communities.services import get_community
from ..errors import DomainError
from ..forms import BaseForm
from ..security import community_required
from ..timeutil import utcnow
from . import bp
from .charts import bars
from .services import PANELS, cached, set_panel, snapshot, version_of

LAYOUTS = ("landscape", "portrait")


def _layout() -> str:
    layout = request.args.get("layout", "landscape")
    return layout if layout in LAYOUTS else "landscape"


def _board(community) -> tuple[dict, str]:
    """The snapshot and its version, shared by all viewers of this worker for a moment."""

    def compute():
        data = snapshot(community)
        return data, version_of(data)

    return cached((community.id, "data"), compute)


def _render_panels(community, data: dict, layout: str) -> str:
    result_bars = None
    if data["results"]:
        result_bars = bars(
            [
                (row["title"], row["votes"], str(row["votes"]), row["funded"] or row["passes"])
                for row in data["results"]
            ]
        )
    return render_template(
        "board/_panels.html",
        community=community,
        data=data,
        result_bars=result_bars,
        layout=layout,
        vote_url=url_for("communities.show", slug=community.slug, _external=True),
    )


def _load(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    return community


@bp.get("/c/<slug>/board")
def board(slug: str):
    community = _load(slug)
    data, version = _board(community)
    layout = _layout()
    return render_template(
        "board/board.html",
        community=community,
        data=data,
        version=version,
        layout=layout,
        panels=_render_panels(community, data, layout),
        generated_at=utcnow(),
    )


@bp.get("/c/<slug>/board/live")
def live(slug: str):
    """The board's panels as HTML in JSON, with an ETag: 304 while nothing changed."""
    community = _load(slug)
    data, version = _board(community)
    layout = _layout()
    etag = f"{version}-{get_locale()}-{layout}"
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        body = cached(
            (community.id, "html", str(get_locale()), layout),
            lambda: {
                "version": version,
                "panel": data["panel"],
                "html": _render_panels(community, data, layout),
            },
        )
        if body["version"] != version:  # the data moved on since this HTML was cached
            body = {
                "version": version,
                "panel": data["panel"],
                "html": _render_panels(community, data, layout),
            }
        response = jsonify(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/console/c/<slug>/board", methods=["GET", "POST"])
@community_required(ORGANIZER)
def presenter(community):
    form = BaseForm()
    if request.method == "POST":
        panel = request.form.get("panel", "")
        if not form.validate_on_submit():
            abort(400)
        try:
            set_panel(community, panel, actor=current_user)
        except DomainError:
            flash(_("Choose one of the panels."), "error")
            return render_template(
                "board/presenter.html", community=community, form=form, panels=PANELS
            ), 422
        flash(_("The screens now show: %(panel)s", panel=panel_label(panel)), "success")
        return redirect(url_for("board.presenter", slug=community.slug))
    return render_template("board/presenter.html", community=community, form=form, panels=PANELS)


def panel_label(panel: str) -> str:
    return {
        "auto": _("Rotate through all panels"),
        "attendance": _("Attendance and quorum"),
        "results": _("Results"),
        "funded": _("Funded projects"),
    }.get(panel, panel)


@bp.app_context_processor
def board_helpers():
    from ..ballots.models import STATUS_LABELS

    return {
        "panel_label": panel_label,
        "ballot_status_label": lambda status: STATUS_LABELS.get(status, status),
    }
