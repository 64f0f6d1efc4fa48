from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm


class CommunityForm(BaseForm):
    name = StringField(_l("Name of the community"), validators=[DataRequired(), Length(max=100)])
    district = StringField(_l("District and street"), validators=[Optional(), Length(max=100)])
    address = StringField(
        _l("Where assemblies meet (address)"), validators=[Optional(), Length(max=200)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class NewCommunityForm(CommunityForm):
    slug = StringField(
        _l("Short name for addresses and posters"),
        validators=[DataRequired(), Length(min=1, max=40)],
    )
