"""Forms of the voting pages: the typed-code entry page and the console's paper ballots.

The residents' ballot itself is a plain HTML form read by views.choices_from_form and checked by
ballots.rules.validate_contents (the same rules as the API), so it needs no WTForms class.
"""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms import BaseForm
from .paper_sheets import MAX_SHEETS_PER_BATCH


class CodeForm(BaseForm):
    """The code alone: it names its ballot (registry.credentials.find_credential_by_code)."""

    code = StringField(
        _l("The code printed on your voter card"),
        validators=[DataRequired(), Length(min=10, max=20)],
    )


# --- paper ballots: the choices are the phone ballot's inputs (templates/voting/_choices.html)


class HandOverForm(BaseForm):
    """One per resident found: the registry entry the sheet is handed to."""

    resident_id = HiddenField(validators=[DataRequired(), Length(max=12)])


class PrintSheetsForm(BaseForm):
    count = IntegerField(
        _l("How many sheets"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_SHEETS_PER_BATCH)],
        default=20,
    )
    # Made when the form is shown: sending it again finds the batch it printed.
    request_key = HiddenField(validators=[DataRequired(), Length(max=64)])


class SheetEntryForm(BaseForm):
    sheet = StringField(
        _l("Sheet number (printed on the sheet, or scan its code)"),
        validators=[DataRequired(), Length(max=20)],
    )


class SettleForm(BaseForm):
    """The supervisor's decision: one of the two entries (by id), or "sheet"."""

    choice = RadioField(_l("What does the sheet say?"), validators=[InputRequired()])
