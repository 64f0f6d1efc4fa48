"""Login, logout, the organizer console home and user administration."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from ..communities.services import communities_for, list_communities
from ..errors import NotFound
from ..extensions import db, limiter
from ..forms import choices
from ..security import admin_required
from ..viewhelpers import form_page_action
from . import bp
from .forms import (
    ROLE_LABELS,
    LoginForm,
    MembershipForm,
    PasswordChangeForm,
    PasswordResetForm,
    UserForm,
)
from .models import Membership, User
from .services import (
    change_password,
    create_user,
    get_user,
    grant_role,
    log_in,
    log_out,
    reset_password,
    revoke_role,
    set_active,
)
from .tasks import ROLE_ORDER, may

# Templates ask the task table before showing a link: may("triage", community).
bp.add_app_template_global(may, "may")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("accounts.console")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        # TooManyAttempts (429) from the login backoff goes to the error handler.
        user = log_in(form.username.data, form.password.data, request.remote_addr)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
        return render_template("accounts/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    log_out(current_user._get_current_object())
    logout_user()
    return redirect(url_for("main.index"))


def _account_key() -> str:
    # Limits may be checked before login_required runs: anonymous requests share one key.
    return "password-user:" + (current_user.get_id() or "anonymous").partition(".")[0]


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def account():
    """The signed-in user's own account: change the password (the current one first)."""
    form = PasswordChangeForm()
    user = current_user._get_current_object()

    def perform():
        if not form.validate_on_submit():
            return None
        change_password(user, form.current.data, form.new.data)
        login_user(user)  # this session carries on under the new password
        return _("Your password was changed. Other sessions were signed out.")

    done, status = form_page_action(perform, url_for("accounts.console"))
    if done is not None:
        return done
    return render_template("accounts/account.html", form=form), status


@bp.get("/console")
@login_required
def console():
    """The communities the user works in, each with the user's roles there."""
    communities = communities_for(current_user)
    held = {c.id: current_user.roles_in(c.id) for c in communities}
    roles = {c.id: [ROLE_LABELS[r] for r in ROLE_ORDER if r in held[c.id]] for c in communities}
    return render_template(
        "accounts/console.html", communities=communities, roles_by_community=roles
    )


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    user_form = UserForm(prefix="user")
    membership_form = MembershipForm(prefix="role")
    membership_form.community.choices = choices((c.id, c.name) for c in list_communities())

    def perform() -> str | None:
        if "user-submit" in request.form and user_form.validate_on_submit():
            create_user(
                user_form.username.data,
                user_form.password.data,
                display_name=user_form.display_name.data,
                is_admin=user_form.is_admin.data,
                actor=current_user,
            )
            return _("Account created.")
        if "role-submit" in request.form and membership_form.validate_on_submit():
            grant_role(
                membership_form.username.data,
                membership_form.community.data,
                membership_form.role.data,
                actor=current_user,
            )
            return _("Role granted.")
        return None

    done, _status = form_page_action(perform, url_for("accounts.users"))
    if done:
        return done
    status = 422 if request.method == "POST" else 200  # a refusal too
    all_users = db.session.scalars(db.select(User).order_by(User.username))
    return render_template(
        "accounts/users.html",
        users=all_users,
        user_form=user_form,
        membership_form=membership_form,
        role_labels=ROLE_LABELS,
    ), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_detail(user_id: int):
    """One account: its roles (revoke), a new password, deactivation."""
    user = get_user(user_id)  # NotFound: a 404 from the error handler
    form = PasswordResetForm()
    action = request.form.get("action")

    def perform():
        if action == "revoke":
            membership = db.session.get(Membership, request.form.get("membership", type=int) or 0)
            if membership is None or membership.user_id != user.id:
                raise NotFound(_l("No such role."))
            revoke_role(membership, actor=current_user)
            return _("The role was revoked.")
        if action in ("deactivate", "activate"):
            set_active(user, action == "activate", actor=current_user)
            return (
                _("The account was deactivated.")
                if action == "deactivate"
                else _("The account was reactivated.")
            )
        if action == "reset" and form.validate_on_submit():
            reset_password(user, form.password.data, actor=current_user)
            return _("The new password was set. Give it to the account holder in person.")
        return None

    done, status = form_page_action(perform, url_for("accounts.user_detail", user_id=user.id))
    if done is not None:
        return done
    return render_template(
        "accounts/user.html", user=user, form=form, role_labels=ROLE_LABELS
    ), status
