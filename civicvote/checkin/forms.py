from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Regexp

from ..forms import BaseForm, choices


class AssemblyForm(BaseForm):
    ballot = SelectField(_l("Ballot"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=120)])
    starts_at = DateTimeLocalField(
        _l("Date and time"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )


class CheckInForm(BaseForm):
    code = StringField(
        _l("Scan the card or type its code"), validators=[DataRequired(), Length(max=300)]
    )
    # When the desk took the scan (ISO 8601 UTC), set by checkin.js; empty without JavaScript.
    scanned_at = HiddenField()


class WalkInForm(BaseForm):
    voter = StringField(validators=[DataRequired(), Regexp(r"^[rh][0-9]{1,12}$")])


class WalkInConfirmForm(WalkInForm):
    """The walk-in code: why the resident has no card, and the second person who confirms."""

    reason = RadioField(_l("Why no card?"), validators=[DataRequired()])
    # Not required here: the service refuses a missing second person with its own message.
    second_username = StringField(
        _l("Second staff member: account name"), validators=[Length(max=80)]
    )
    second_password = PasswordField(
        _l("Second staff member: password"), validators=[Length(max=200)]
    )

    def setup(self, reasons: dict) -> "WalkInConfirmForm":
        self.reason.choices = choices(reasons.items())
        return self
