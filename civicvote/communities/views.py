"""Public community pages and the administrator's list (a community's console is the
workbench's)."""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..security import admin_required
from ..viewhelpers import form_page_action
from . import bp
from .forms import CommunityForm, NewCommunityForm
from .services import (
    DESCRIBED,
    create_community,
    get_community,
    list_communities,
    update_community,
)


@bp.get("/c/<slug>")
def show(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    return render_template("communities/show.html", community=community)


def _described(form: CommunityForm) -> dict:
    return {name: getattr(form, name).data or "" for name in DESCRIBED}


@bp.route("/admin/communities", methods=["GET", "POST"])
@admin_required
def admin_index():
    form = NewCommunityForm()

    def perform():
        if not form.validate_on_submit():
            return None
        community = create_community(form.slug.data, actor=current_user, **_described(form))
        return _("The community %(name)s was added.", name=community.name)

    done, status = form_page_action(perform, url_for("communities.admin_index"))
    if done is not None:
        return done
    return render_template(
        "communities/admin_index.html", communities=list_communities(), form=form
    ), status


@bp.route("/admin/communities/<slug>", methods=["GET", "POST"])
@admin_required
def admin_edit(slug: str):
    community = get_community(slug)
    if community is None:
        abort(404)
    form = CommunityForm(obj=community if request.method == "GET" else None)

    def perform():
        if not form.validate_on_submit():
            return None
        update_community(community, actor=current_user, **_described(form))
        return _("The community was saved.")

    done, status = form_page_action(perform, url_for("communities.admin_index"))
    if done is not None:
        return done
    return render_template("communities/admin_edit.html", community=community, form=form), status
