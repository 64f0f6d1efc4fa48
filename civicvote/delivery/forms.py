from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileSize
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from ..forms import BaseForm, YuanField, choices
from ..i18n import money

TEN_MB = 10 * 1024 * 1024


class MilestoneForm(BaseForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=120)])
    planned_date = DateField(_l("Planned date"), validators=[Optional()])


class MilestoneDoneForm(BaseForm):
    actual_date = DateField(_l("Date reached"), validators=[DataRequired()])


class SignOffForm(BaseForm):
    comment = TextAreaField(_l("Comment (public)"), validators=[Length(max=1000)])


class ProgressForm(BaseForm):
    text = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=2000)])
    percent = IntegerField(_l("Progress (%)"), validators=[InputRequired(), NumberRange(0, 100)])
    photo = FileField(
        _l("Photo (JPEG, PNG or WebP, at most 10 MB)"),
        validators=[FileSize(TEN_MB, message=_l("Files can be at most 10 MB."))],
    )


def _source_label(name: str, allocated_fen: int) -> str:
    if allocated_fen:
        return _(
            "%(fund)s (allocated %(amount)s to this project)",
            fund=name,
            amount=money(allocated_fen),
        )
    return _("%(fund)s (did not pay for this project)", fund=name)


class SpendingForm(BaseForm):
    spent_on = DateField(_l("Date paid"), validators=[DataRequired()])
    item = StringField(_l("What was bought"), validators=[DataRequired(), Length(max=200)])
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired()])
    payee = StringField(_l("Paid to"), validators=[DataRequired(), Length(max=120)])
    line_item = SelectField(_l("Line item"), coerce=int)
    fund_source = SelectField(_l("Fund source"), coerce=int)
    receipt = FileField(
        _l("Receipt (photo or PDF, at most 10 MB)"),
        validators=[FileSize(TEN_MB, message=_l("Files can be at most 10 MB."))],
    )

    def setup(self, proposal, allocated: dict) -> "SpendingForm":
        """Choices for one project; each fund source says what it allocated to the project."""
        self.line_item.choices = choices(
            [(0, _l("Not in the budget"))] + [(i.id, i.description) for i in proposal.line_items]
        )
        self.fund_source.choices = choices(
            (s.id, _source_label(s.name, allocated.get(s.id, 0)))
            for s in proposal.round.fund_sources
        )
        return self

    @property
    def amount_fen(self) -> int | None:
        """The amount in fen (parsed by the field)."""
        return self.amount.data


class CompletionForm(BaseForm):
    text = TextAreaField(_l("Completion report"), validators=[DataRequired(), Length(max=5000)])


class RatingForm(BaseForm):
    code = StringField(_l("Your voter card code"), validators=[DataRequired(), Length(max=64)])
    score = RadioField(
        _l("How satisfied are you?"),
        coerce=int,
        validators=[InputRequired()],
        choices=choices(
            [
                (5, _l("5 · Very satisfied")),
                (4, _l("4 · Satisfied")),
                (3, _l("3 · Neutral")),
                (2, _l("2 · Dissatisfied")),
                (1, _l("1 · Very dissatisfied")),
            ]
        ),
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=500)])
