"""The public board (kiosk screens and phones) and the presenter's control."""

import json
import time

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.tasks import roles_for
from ..ballots.setup import community_ballots
from ..communities.services import get_community
from ..errors import DomainError
from ..forms import BaseForm
from ..registry.credentials import base_url_for
from ..results.explanations import explanation
from ..results.services import latest_run
from ..security import community_required
from ..timeutil import utcnow
from ..viewhelpers import try_service
from . import bp
from .charts import bars
from .fastpath import ENVIRON_KEY as LIVE_ENVIRON_KEY
from .services import (
    PANELS,
    assembly_in_progress,
    cached,
    current_ballot,
    forget_key,
    live_key,
    set_ballot,
    set_panel,
    snapshot,
    version_of,
)

LAYOUTS = ("landscape", "portrait")
# Result rows a results page of the board holds: as many as fit a TV with two-line titles.
RESULTS_PER_PAGE = 5


def _layout() -> str:
    layout = request.args.get("layout", "landscape")
    return layout if layout in LAYOUTS else "landscape"


def _board(community) -> tuple[dict, str, int]:
    """The snapshot, its version and when it was read (ms since the epoch), shared by all
    viewers of this worker for a moment.

    Workers read at different moments, so a board polling several of them could be handed an
    older snapshot after a newer one; the read time lets the page keep only the newest.
    """

    def compute():
        read_at = int(time.time() * 1000)
        data = snapshot(community)
        return data, version_of(data), read_at

    return cached((community.id, "data"), compute)


def _panel_context(community, data: dict, layout: str, slide: int | None = None) -> dict:
    """What templates/board/_panels.html needs, for the page and for live updates alike.

    ``slide`` (the page only): which of the panels that take turns this page shows, for a
    screen without JavaScript, which turns them by reloading (board.js turns them itself).
    """
    result_bars = None
    if data["results"]:
        result_bars = bars(
            [
                (_short(r["title"]), r["votes"], str(r["votes"]), r["passes"], r["funded"])
                for r in data["results"]
            ]
        )
    explained = _explained(data)
    pages = [
        result_bars[i : i + RESULTS_PER_PAGE]
        for i in range(0, len(result_bars or ()), RESULTS_PER_PAGE)
    ]
    turns = _turns(data, pages, explained)
    return {
        "community": community,
        "data": data,
        "result_pages": pages,
        "explained": explained,
        "layout": layout,
        "vote_url": _vote_url(data["ballot"]),
        "turns": len(turns),
        "turn": turns[slide % len(turns)] if slide is not None and len(turns) > 1 else None,
    }


def _turns(data: dict, pages: list, explained) -> list[str]:
    """The panels that take turns beside attendance when the presenter leaves the board on
    "auto", in board.js's order: why this result (after the close), each page of results,
    the funded projects."""
    if data["panel"] != "auto":
        return []
    turns = ["explain"] if explained else []
    turns += [f"page-{n}" for n in range(1, len(pages) + 1)]
    return turns + (["funded"] if data["funded"] else [])


def _short(title: str, limit: int = 40) -> str:
    """A title cut to at most two lines of the board's results panel; the results page has
    it whole."""
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _vote_url(ballot: dict | None) -> str:
    """Where the "scan to vote" QR code leads: the code page of the ballot on the screen (it
    names the ballot and when and where it is voted), from the configured public base."""
    base = base_url_for(current_app.config)
    if ballot is None:
        return base + url_for("voting.enter_code")
    return base + url_for("voting.ballot_code", ballot_id=ballot["id"])


def _explained(data: dict) -> dict | None:
    """After the close, the published result explained (as on the results page)."""
    ballot = data["ballot"]
    if data["round"] is None or not data["funded"] or (ballot and ballot["status"] != "closed"):
        return None
    return explanation(latest_run(data["round"]["id"]))


def _render_panels(community, data: dict, layout: str) -> str:
    return render_template("board/_panels.html", **_panel_context(community, data, layout))


def _load(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    return community


@bp.get("/c/<slug>/board")
def board(slug: str):
    community = _load(slug)
    data, version, read_at = _board(community)
    layout = _layout()
    slide = request.args.get("slide", "0")
    slide = int(slide) if slide.isascii() and slide.isdigit() and len(slide) < 4 else 0
    return render_template(
        "board/board.html",
        version=version,
        generated_at=utcnow(),
        server_now_ms=int(time.time() * 1000),
        slide=slide,
        **_panel_context(community, data, layout, slide),
    )


def _live_state(slug: str):
    """This worker's (data, version, read_at) of the board at ``slug``, or None if no such
    community, shared by all its viewers for a moment: repeated polls touch no database."""

    def compute():
        community = get_community(slug)
        if community is None:
            return None
        read_at = int(time.time() * 1000)
        data = snapshot(community)
        return data, version_of(data), read_at

    return cached(live_key(slug), compute)


@bp.get("/c/<slug>/board/live")
def live(slug: str):
    """The board's panels as HTML in JSON, with an ETag: 304 while nothing changed.

    Made cheap for a thousand screens: the snapshot is shared per worker for a moment, the
    304 answer needs no database, and the JSON body is serialized once per version.
    """
    state = _live_state(slug)
    if state is None:
        abort(404)
    data, version, read_at = state
    request.environ[LIVE_ENVIRON_KEY] = (slug, version)  # lets the fast path replay this answer
    layout = _layout()
    locale = str(get_locale())
    etag = f"{version}-{locale}-{layout}"
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:

        def render():
            community = _load(slug)
            body = {
                "version": version,
                "read_at": read_at,
                "panel": data["panel"],
                "stats": _stats(data),
                "html": _render_panels(community, data, layout),
            }
            return version, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

        key = ("live-body", slug, locale, layout)
        body_version, payload = cached(key, render)
        if body_version != version:  # the data moved on since this body was cached
            forget_key(key)
            body_version, payload = cached(key, render)
            if body_version != version:  # another thread cached a different one meanwhile
                body_version, payload = render()
        response = current_app.response_class(payload, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _stats(data: dict) -> dict:
    """The headline numbers, for clients that want them without the markup."""
    return {
        "cast": (data["turnout"] or {}).get("cast", 0),
        "present": (data["attendance"] or {}).get("present", 0),
    }


@bp.route("/console/c/<slug>/board", methods=["GET", "POST"])
@community_required(*roles_for("presenter"))
def presenter(community):
    form = BaseForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        message, status = try_service(lambda: _present(community))
        if message:
            flash(message, "success")
            return redirect(url_for("board.presenter", slug=community.slug))
    return render_template(
        "board/presenter.html",
        community=community,
        form=form,
        panels=PANELS,
        ballots=community_ballots(community.id),
        shown=current_ballot(community),
        assembly=assembly_in_progress(community),
    ), status or 200


def _present(community) -> str:
    """Apply the presenter's button: a panel, or the ballot the screens follow."""
    refused = DomainError(_l("Choose one of the listed options."), code="choice")
    if "ballot" in request.form:
        raw = request.form["ballot"]
        if raw == "auto":
            set_ballot(community, None, actor=current_user)
            return _("The screens follow the assembly in progress.")
        ids = {b.id for b in community_ballots(community.id)}
        if not (raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) in ids):
            raise refused
        set_ballot(community, int(raw), actor=current_user)
        return _(
            "The screens now show the ballot: %(title)s", title=current_ballot(community).title
        )
    panel = request.form.get("panel", "")
    if panel not in PANELS:
        raise refused
    set_panel(community, panel, actor=current_user)
    return _("The screens now show: %(panel)s", panel=panel_label(panel))


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
