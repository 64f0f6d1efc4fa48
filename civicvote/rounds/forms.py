from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import BaseForm, MultiCheckboxField, YuanField, choices
from .models import (
    COMPLETION_LABELS,
    RULE_LABELS,
    SOURCE_KIND_LABELS,
    TIE_LABELS,
    VOTE_UNIT_LABELS,
)


def _categories_field():
    return TextAreaField(
        _l("Categories, one name per line"),
        validators=[DataRequired(), Length(max=3000)],
    )


class RulesForm(BaseForm):
    budget = YuanField(_l("Total budget (yuan)"), validators=[InputRequired()])
    cap = YuanField(_l("Cap per project (yuan, empty for none)"), validators=[Optional()])
    categories = _categories_field()
    required_documents = TextAreaField(
        _l("Documents every proposal must provide, one per line"),
        validators=[Optional(), Length(max=1000)],
    )


class NewRoundForm(BaseForm):
    name = StringField(_l("Name of the round"), validators=[DataRequired(), Length(max=120)])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    budget = YuanField(_l("Total budget (yuan)"), validators=[InputRequired()])
    fund_name = StringField(
        _l("Name of the community fund that pays it"), validators=[Optional(), Length(max=120)]
    )
    categories = _categories_field()
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class CountingForm(BaseForm):
    allocation_rule = SelectField(_l("Allocation rule"), choices=choices(RULE_LABELS.items()))
    mes_completion = SelectField(
        _l("Money equal shares leaves unspent"),
        choices=choices(COMPLETION_LABELS.items()),
        default="add1",  # forms posted without the field keep the usual completion
    )
    tie_break = SelectField(_l("Ties"), choices=choices(TIE_LABELS.items()))
    notice_days = IntegerField(
        _l("Days of public notice for objections"),
        validators=[InputRequired(), NumberRange(1, 60)],
    )
    vote_unit = SelectField(_l("Who votes"), choices=choices(VOTE_UNIT_LABELS.items()))
    # Optional: a form posted without it keeps the round's value (allocation/buildings.py).
    building_min_ballots = IntegerField(
        _l("Smallest group of ballots shown by building (10 to 1000)"),
        validators=[Optional(), NumberRange(10, 1000)],
    )


class SourceForm(BaseForm):
    name = StringField(_l("Name of the fund source"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=choices(SOURCE_KIND_LABELS.items()))
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired()])
    categories = MultiCheckboxField(_l("Only for these categories (restricted or matching)"))
    cap = YuanField(_l("Cap per project (yuan, empty for none)"), validators=[Optional()])
    match_ratio_percent = IntegerField(
        _l("Matching: yuan added per 100 yuan of residents' funds"),
        validators=[Optional(), NumberRange(1, 1000)],
    )
    donor = StringField(_l("Donor (shown publicly)"), validators=[Optional(), Length(max=120)])
    public = BooleanField(_l("List it on the public pages"), default=True)


class AdvanceForm(BaseForm):
    expected_phase = HiddenField(validators=[DataRequired(), Length(max=20)])
