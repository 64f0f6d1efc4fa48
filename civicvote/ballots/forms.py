"""Forms of the ballot console: a ballot's settings and its status.

The voting pages' forms are the voting area's (voting/forms.py).
"""

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import BaseForm, choices
from .models import METHOD_LABELS
from .setup import live_results_default

MODE_LABELS = {
    "assembly": _l("At the assembly only (check-in required)"),
    "online": _l("Online only"),
    "mixed": _l("At the assembly and online"),
}
QUORUM_LABELS = {
    "households_percent": _l("Percent of eligible households"),
    "residents_percent": _l("Percent of eligible residents"),
    "minimum": _l("A minimum number of ballots"),
}
LIVE_RESULTS_LABELS = {
    "default": _l("Default: live at an assembly-only ballot, hidden when people vote online"),
    "on": _l("Show results live while voting is open"),
    "off": _l("Show results only when the vote closes"),
}
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _utc(local: datetime | None) -> datetime | None:
    """A form's naive local time (the instance's time zone) as the naive UTC datetime we store."""
    return to_utc(local) if local is not None else None


def _local(utc: datetime | None) -> datetime | None:
    """A stored naive UTC datetime as the naive local time a form field shows."""
    return to_user_timezone(utc).replace(tzinfo=None) if utc is not None else None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BallotForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    method = SelectField(_l("Voting method"), choices=choices(METHOD_LABELS.items()))
    mode = SelectField(_l("How people vote"), choices=choices(MODE_LABELS.items()))
    min_choices = IntegerField(
        _l("Fewest proposals a voter must choose"),
        default=1,
        validators=[Optional(), NumberRange(min=0, max=200)],
    )
    max_choices = IntegerField(
        _l("Most proposals a voter may choose (empty: no limit)"),
        validators=[Optional(), NumberRange(min=1, max=200)],
    )
    budget_yuan = DecimalField(
        _l("Budget for a budget ballot, in yuan (empty: the round's budget)"),
        places=2,
        validators=[Optional(), NumberRange(min=Decimal("0.01"), max=Decimal("100000000"))],
    )
    points_total = IntegerField(
        _l("Points each voter spreads (points ballots)"),
        validators=[Optional(), NumberRange(min=1, max=1000)],
    )
    online_opens_at = DateTimeLocalField(
        _l("Online voting opens (local time, optional)"),
        format=LOCAL_FORMAT,
        validators=[Optional()],
    )
    online_closes_at = DateTimeLocalField(
        _l("Online voting closes (local time, optional)"),
        format=LOCAL_FORMAT,
        validators=[Optional()],
    )
    quorum_kind = SelectField(_l("Quorum rule"), choices=choices(QUORUM_LABELS.items()))
    quorum_value = IntegerField(
        _l("Quorum (percent, or number of ballots)"),
        default=50,
        validators=[DataRequired(), NumberRange(min=1, max=100000)],
    )
    pass_threshold_percent = IntegerField(
        _l("A proposal passes with more than this percent of the ballots cast"),
        default=50,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    live_results = SelectField(
        _l("Live results"), choices=choices(LIVE_RESULTS_LABELS.items()), default="default"
    )
    live_batch_size = IntegerField(
        _l("Live results change only after this many more ballots (2 to 1000)"),
        default=10,
        validators=[DataRequired(), NumberRange(min=2, max=1000)],
    )
    proposals = MultiCheckboxField(_l("Approved proposals on the ballot"), coerce=int)

    def validate_quorum_value(self, field):
        if self.quorum_kind.data != "minimum" and field.data and field.data > 100:
            raise ValidationError(_l("A percentage is at most 100."))

    def validate_online_closes_at(self, field):
        opens = self.online_opens_at.data
        if field.data and opens and field.data <= opens:
            raise ValidationError(_l("The online window must close after it opens."))

    def validate_proposals(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one approved proposal."))

    def values(self) -> dict:
        """The service's settings from the form (money in fen, times in UTC)."""
        budget = self.budget_yuan.data
        return {
            "title": self.title.data,
            "method": self.method.data,
            "mode": self.mode.data,
            "min_choices": self.min_choices.data or 0,
            "max_choices": self.max_choices.data,
            "budget_fen": int(budget * 100) if budget is not None else None,
            "points_total": self.points_total.data,
            "online_opens_at": _utc(self.online_opens_at.data),
            "online_closes_at": _utc(self.online_closes_at.data),
            "quorum_kind": self.quorum_kind.data,
            "quorum_value": self.quorum_value.data,
            "pass_threshold_percent": self.pass_threshold_percent.data or 0,
            "results_visible_live": (
                live_results_default(self.mode.data)
                if self.live_results.data == "default"
                else self.live_results.data == "on"
            ),
            "live_batch_size": self.live_batch_size.data,
        }

    def fill_from(self, ballot) -> None:
        for name in (
            "title",
            "method",
            "mode",
            "min_choices",
            "max_choices",
            "points_total",
            "quorum_kind",
            "quorum_value",
            "pass_threshold_percent",
            "live_batch_size",
        ):
            getattr(self, name).data = getattr(ballot, name)
        self.live_results.data = "on" if ballot.results_visible_live else "off"
        self.budget_yuan.data = (
            Decimal(ballot.budget_fen) / 100 if ballot.budget_fen is not None else None
        )
        self.online_opens_at.data = _local(ballot.online_opens_at)
        self.online_closes_at.data = _local(ballot.online_closes_at)
        self.proposals.data = [item.proposal_id for item in ballot.items]


class StatusForm(BaseForm):
    action = HiddenField(validators=[DataRequired(), Length(max=10)])
