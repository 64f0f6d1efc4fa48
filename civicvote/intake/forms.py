from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm, choices
from .models import CHANNEL_LABELS


class NeedForm(BaseForm):
    title = StringField(
        _l("What is needed?"),
        validators=[DataRequired(message=_l("Please give the need a title.")), Length(max=100)],
    )
    description = TextAreaField(_l("Describe the need"), validators=[Optional(), Length(max=2000)])
    category = SelectField(_l("Category"), validators=[Optional()])
    place = StringField(_l("Where? (building, courtyard, gate)"), validators=[Length(max=100)])
    contact = StringField(
        _l("Your phone or name (optional, never shown publicly)"),
        validators=[Optional(), Length(max=100)],
    )
    # One-time key: the same form sent twice makes one need.
    nonce = HiddenField(validators=[Length(max=64)])

    def set_categories(self, funding_round) -> None:
        self.category.choices = choices(
            [("", _l("Not sure"))] + [(c.code, c.name) for c in funding_round.categories]
        )


class StaffNeedForm(NeedForm):
    contact = StringField(
        _l("Resident's phone or name (optional, never shown publicly)"),
        validators=[Optional(), Length(max=100)],
    )
    channel = SelectField(
        _l("Collected through"),
        choices=choices(CHANNEL_LABELS.items()),
        validators=[DataRequired()],
    )


class DeclineForm(BaseForm):
    reason = TextAreaField(
        _l("Reason (residents will see it)"),
        validators=[
            DataRequired(message=_l("Please give the reason residents will see.")),
            Length(max=1000),
        ],
    )


class MergeForm(BaseForm):
    target = SelectField(_l("Merge into"), coerce=int, validators=[DataRequired()])


class ActionForm(BaseForm):
    """A form that carries only the CSRF token (accept, support)."""
