from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm


class RulesForm(BaseForm):
    budget = StringField(_l("Total budget (yuan)"), validators=[DataRequired(), Length(max=20)])
    cap = StringField(
        _l("Cap per project (yuan, empty for none)"), validators=[Optional(), Length(max=20)]
    )
    categories = TextAreaField(
        _l("Categories, one per line: code = name"),
        validators=[DataRequired(), Length(max=3000)],
    )
    required_documents = TextAreaField(
        _l("Documents every proposal must provide, one per line"),
        validators=[Optional(), Length(max=1000)],
    )


class AdvanceForm(BaseForm):
    expected_phase = HiddenField(validators=[DataRequired(), Length(max=20)])
