from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..forms import BaseForm, MultiCheckboxField


class ApplicationForm(BaseForm):
    name = StringField(_l("Organization name"), validators=[DataRequired(), Length(max=120)])
    registration_number = StringField(
        _l("Registration number (unified social credit code)"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[0-9A-Za-z-]+$", message=_l("Use letters, digits and dashes only.")),
        ],
    )
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=60)])
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[
            DataRequired(),
            Length(max=30),
            Regexp(r"^[0-9+() -]+$", message=_l("Use digits, spaces, dashes and + only.")),
        ],
    )
    field_of_work = StringField(_l("Field of work"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(
        _l("What the organization does"), validators=[Optional(), Length(max=2000)]
    )


class MemberForm(BaseForm):
    communities = MultiCheckboxField(_l("Communities it serves"), coerce=int)
    username = StringField(
        _l("Username for the member"),
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(
                r"^[A-Za-z0-9_.-]+$", message=_l("Use letters, digits, dot, dash or underscore.")
            ),
        ],
    )
    display_name = StringField(_l("Member's name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Initial password (leave empty to generate one)"),
        validators=[Optional(), Length(min=10, max=200)],
    )

    def validate_communities(self, field):
        if not field.data:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("Choose at least one community the organization serves."))
