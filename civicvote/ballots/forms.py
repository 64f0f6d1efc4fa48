"""Forms of the ballot console: a ballot's settings and its status.

A ballot's form holds only the settings its method uses (``METHOD_FIELDS``): the organizer
chooses the method first, and the form for that method follows (``BallotForm.use_method``).
The voting pages' forms are the voting area's (voting/forms.py).
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import BaseForm, YuanField, choices
from .models import METHODS
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
# The settings each method uses (ballots/rules.py holds a vote to them); the form of a method
# has only these, and the others are stored empty. Approval and budget ballots count the
# proposals chosen; a budget ballot also adds up their cost; a points ballot limits how many
# proposals get points; a yes/no ballot needs at least ``min_choices`` answers.
METHOD_FIELDS = {
    "approval": ("min_choices", "max_choices"),
    "knapsack": ("budget_yuan", "min_choices", "max_choices"),
    "cumulative": ("points_total", "max_choices"),
    "yes_no": ("min_choices",),
}
ALL_METHOD_FIELDS = ("min_choices", "max_choices", "budget_yuan", "points_total")
# What a method's own settings are called when they differ from the plain labels.
METHOD_HINTS = {
    "approval": _l("Residents tick the proposals they support."),
    "knapsack": _l("Residents tick proposals whose costs together fit in the budget."),
    "cumulative": _l("Residents spread a number of points over the proposals."),
    "yes_no": _l("Residents answer yes, no or no opinion on each proposal."),
}


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
    method = HiddenField(
        _l("Voting method"),
        validators=[AnyOf(METHODS, message=_l("Choose a voting method."))],
    )
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
    budget_yuan = YuanField(
        _l("Budget for a budget ballot, in yuan (empty: the round's budget)"),
        validators=[Optional()],
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

    def use_method(self, method: str | None) -> None:
        """Keep only the settings ``method`` uses: the others are neither shown, read nor
        checked (a form posted with them, by an old page or a script, has them ignored)."""
        used = METHOD_FIELDS.get(method or "", ())
        for name in ALL_METHOD_FIELDS:
            if name not in used and name in self:
                del self[name]
        if method in METHODS:
            self.method.data = method

    def _setting(self, name: str, empty=None):
        """A method's setting as typed, or ``empty`` when the method does not use it."""
        return self[name].data if name in self else empty

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
        return {
            "title": self.title.data,
            "method": self.method.data,
            "mode": self.mode.data,
            "min_choices": self._setting("min_choices") or 0,
            "max_choices": self._setting("max_choices"),
            "budget_fen": self._setting("budget_yuan"),
            "points_total": self._setting("points_total"),
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
        """Show a stored ballot's settings (money in yuan, times in local time)."""
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
            if name in self:
                self[name].data = getattr(ballot, name)
        self.live_results.data = "on" if ballot.results_visible_live else "off"
        if "budget_yuan" in self:
            self.budget_yuan.data = ballot.budget_fen
        self.online_opens_at.data = _local(ballot.online_opens_at)
        self.online_closes_at.data = _local(ballot.online_closes_at)
        self.proposals.data = [item.proposal_id for item in ballot.items]


class StatusForm(BaseForm):
    action = HiddenField(validators=[DataRequired(), Length(max=10)])
