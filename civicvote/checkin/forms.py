from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from ..forms import BaseForm


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
