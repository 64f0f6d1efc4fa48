from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..ballots.models import QUORUM_DECISION_LABELS
from ..forms import BaseForm, choices


class RunForm(BaseForm):
    """Counting uses the round's published rule: the organizer chooses nothing but gives the
    reason when the result was counted before."""

    reason = TextAreaField(
        _l("Reason for counting again (for example, a paper ballot corrected)"),
        validators=[Optional(), Length(max=1000)],
    )


class QuorumDecisionForm(BaseForm):
    decision = RadioField(
        _l("Outcome"), choices=choices(QUORUM_DECISION_LABELS.items()), validators=[InputRequired()]
    )
    note = TextAreaField(_l("Reason (published)"), validators=[DataRequired(), Length(max=1000)])


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
