"""Forms of the voting pages: the typed-code entry page and the console's paper ballots.

The residents' ballot itself is a plain HTML form read by views.choices_from_form and checked by
ballots.rules.validate_contents (the same rules as the API), so it needs no WTForms class.
"""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import BaseForm


class CodeForm(BaseForm):
    ballot = SelectField(_l("Ballot"), coerce=int)
    code = StringField(
        _l("The code printed on your voter card"),
        validators=[DataRequired(), Length(min=10, max=20)],
    )


class PaperVoterForm(BaseForm):
    voter = StringField(
        _l("Voter card code (or voter key)"), validators=[DataRequired(), Length(max=30)]
    )


class ResolveForm(BaseForm):
    """One per mismatched paper ballot (prefixed); the voter key travels in a plain field."""

    entry = SelectField(_l("Which entry matches the paper ballot?"), coerce=str)
