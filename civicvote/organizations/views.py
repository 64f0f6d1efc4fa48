"""Organizations apply in public; administrators approve them and create member accounts."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..communities.services import list_communities
from ..extensions import limiter
from ..forms import choices
from ..security import admin_required
from ..viewhelpers import try_service
from . import bp
from .forms import ApplicationForm, MemberForm
from .models import APPROVED, PENDING
from .services import add_member, apply, approve, get_organization, list_organizations, reject


@bp.route("/organizations/apply", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def apply_form():
    form = ApplicationForm()
    if form.validate_on_submit():
        _applied, refused = try_service(
            lambda: apply(**{name: form[name].data for name in form.data if name != "csrf_token"})
        )
        if refused is None:
            return redirect(url_for("organizations.applied"))
    status = 422 if form.is_submitted() else 200
    return render_template("organizations/apply.html", form=form), status


@bp.get("/organizations/applied")
def applied():
    return render_template("organizations/applied.html")


@bp.get("/admin/organizations")
@admin_required
def admin_index():
    return render_template("organizations/admin_index.html", organizations=list_organizations())


@bp.route("/admin/organizations/<int:organization_id>", methods=["GET", "POST"])
@admin_required
def admin_show(organization_id: int):
    organization = get_organization(organization_id)
    form = MemberForm()
    form.communities.choices = choices((c.id, c.name) for c in list_communities())
    created = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        if action == "reject":  # CSRF is checked for every POST by CSRFProtect
            _rejected, status = try_service(lambda: reject(organization, actor=current_user))
            if status is None:
                flash(_("The application was rejected."), "success")
                return redirect(url_for("organizations.admin_index"))
        elif action in ("approve", "member") and form.validate_on_submit():
            service = approve if organization.status == PENDING else add_member
            made, refused = try_service(
                lambda: service(
                    organization,
                    community_ids=form.communities.data,
                    username=form.username.data,
                    display_name=form.display_name.data,
                    password=form.password.data or None,
                    actor=current_user,
                )
            )
            if refused:
                status = refused
            else:
                user, password = made
                created = {"username": user.username, "password": password}
                form = MemberForm(formdata=None)
                form.communities.choices = choices((c.id, c.name) for c in list_communities())
        else:
            status = 422
    return render_template(
        "organizations/admin_show.html",
        organization=organization,
        form=form,
        created=created,
        approved=organization.status == APPROVED,
    ), status
