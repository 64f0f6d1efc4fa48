from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import BaseForm, choices
from ..rounds.models import RULE_LABELS, TIE_LABELS


class RunForm(BaseForm):
    rule = SelectField(_l("Allocation rule"), choices=choices(RULE_LABELS.items()))
    threshold_percent = IntegerField(
        _l("Approval threshold in percent of ballots (optional)"),
        validators=[Optional(), NumberRange(1, 100)],
    )
    tie_break = SelectField(_l("Ties"), choices=choices(TIE_LABELS.items()))
    decision_note = TextAreaField(
        _l("Decision that allows changing a final result"), validators=[Length(max=1000)]
    )


class ObjectionForm(BaseForm):
    text = TextAreaField(_l("Your objection"), validators=[DataRequired(), Length(max=2000)])
    card = StringField(
        _l("Your voter card code (or leave a contact below)"), validators=[Length(max=200)]
    )
    contact = StringField(
        _l("Contact: name or phone (never published)"), validators=[Length(max=100)]
    )


class AnswerForm(BaseForm):
    answer = TextAreaField(_l("Public answer"), validators=[DataRequired(), Length(max=2000)])


class AmendAnswerForm(BaseForm):
    """修改答复: a new version of a published answer; ``version`` is the one the organizer read."""

    answer = TextAreaField(
        _l("Amended public answer"), validators=[DataRequired(), Length(max=2000)]
    )
    version = HiddenField(validators=[DataRequired()])
