from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..forms import BaseForm, choices
from .services import RESIDENCE_LABELS


class ImportForm(BaseForm):
    file = FileField(_l("Registry file (CSV)"), validators=[FileRequired()])


class ResidentForm(BaseForm):
    external_ref = StringField(_l("Reference number"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    building = StringField(_l("Building"), validators=[DataRequired(), Length(max=20)])
    unit = StringField(_l("Building unit"), validators=[Optional(), Length(max=20)])
    room = StringField(_l("Room"), validators=[DataRequired(), Length(max=20)])
    birth_year = IntegerField(
        _l("Year of birth"),
        validators=[Optional(), NumberRange(min=1900, max=date.today().year)],
    )
    residence_status = SelectField(
        _l("Residence"), choices=choices(RESIDENCE_LABELS.items()), validators=[DataRequired()]
    )
    eligible = BooleanField(_l("The registry allows this person to vote"), default=True)


class CardsForm(BaseForm):
    building = SelectField(_l("Building"), validators=[Optional()])
    count = IntegerField(
        _l("At most this many cards"), validators=[Optional(), NumberRange(min=1, max=5000)]
    )
    # One-time key: this form issues one batch, however often it is sent.
    request_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    # Shown after a batch: the same choices again issue more cards only when this is ticked.
    another = BooleanField(_l("Issue another batch with the same choices"))


class RevokeForm(BaseForm):
    code = StringField(
        _l("Card code or link"),
        validators=[DataRequired(), Length(max=300), Regexp(r"^[A-Za-z0-9_:/.\- ?=&]+$")],
    )
