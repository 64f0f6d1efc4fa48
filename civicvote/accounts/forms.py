from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from ..forms import BaseForm, choices
from .models import CLERK, MIN_PASSWORD, ORG_MEMBER, ORGANIZER, REVIEWER, SUPERVISOR

ROLE_LABELS = {
    ORGANIZER: _l("Organizer"),
    REVIEWER: _l("Reviewer"),
    ORG_MEMBER: _l("Organization member"),
    SUPERVISOR: _l("Supervisory committee"),
    CLERK: _l("Clerk"),
}


class LoginForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class UserForm(BaseForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(
                r"^[A-Za-z0-9_.-]+$", message=_l("Use letters, digits, dot, dash or underscore.")
            ),
        ],
    )
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)]
    )
    is_admin = BooleanField(_l("Administrator"))


class MembershipForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    community = SelectField(_l("Community"), coerce=int, validators=[DataRequired()])
    role = SelectField(
        _l("Role"), choices=choices(ROLE_LABELS.items()), validators=[DataRequired()]
    )


class PasswordChangeForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)]
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
    )


class PasswordResetForm(BaseForm):
    password = PasswordField(
        _l("New password for this account"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
    )
