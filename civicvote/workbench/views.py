"""A community's console: one section per role the signed-in user holds there."""

from flask import render_template
from flask_login import current_user

from ..accounts.forms import ROLE_LABELS
from ..security import community_required
from . import bp
from .worklist import sections


@bp.get("/console/c/<slug>")
@community_required()  # any role in the community; each section is one of the user's roles
def console(community):
    """The user's waiting work in the community, by role, with links to every task."""
    found = sections(community, current_user)
    return render_template(
        "workbench/console.html",
        community=community,
        sections=found,
        role_labels=ROLE_LABELS,
    )
