from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..errors import DomainError
from ..forms import BaseForm, choices, strip_text
from ..money import parse_quantity, parse_yuan


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LineItemForm(Form):
    """One costing row; an entirely empty row is ignored."""

    description = StringField(_l("Item"), filters=[strip_text], validators=[Length(max=200)])
    quantity = StringField(_l("Quantity"), filters=[strip_text], validators=[Length(max=20)])
    unit = StringField(_l("Unit"), filters=[strip_text], validators=[Length(max=20)])
    unit_cost = StringField(
        _l("Unit cost (yuan)"), filters=[strip_text], validators=[Length(max=20)]
    )

    def is_empty(self) -> bool:
        return not (self.description.data or self.quantity.data or self.unit_cost.data)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.is_empty():
            return ok
        if not self.description.data:
            self.description.errors.append(_l("Describe the item."))
            ok = False
        for field, parse in ((self.quantity, parse_quantity), (self.unit_cost, parse_yuan)):
            try:
                parse(field.data or "")
            except DomainError as error:
                field.errors.append(error.message)
                ok = False
        return ok


class MilestoneForm(Form):
    title = StringField(_l("Milestone"), filters=[strip_text], validators=[Length(max=120)])
    planned_date = DateField(_l("Planned date"), validators=[Optional()])


class ProposalForm(BaseForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            # Strip text like every BaseForm, but FieldList takes no filters (its rows do).
            if unbound_field.field_class in (FieldList, FormField):
                return unbound_field.bind(form=form, **options)
            filters = list(unbound_field.kwargs.get("filters", []))
            if strip_text not in filters:
                filters.append(strip_text)
            return unbound_field.bind(form=form, filters=filters, **options)

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=4000)])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    needs = MultiCheckboxField(_l("Needs it answers"), coerce=int)
    beneficiaries_count = IntegerField(
        _l("Number of beneficiaries"),
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
    )
    beneficiaries_desc = StringField(_l("Who benefits"), validators=[Length(max=200)])
    location = StringField(_l("Location"), validators=[Length(max=100)])
    start_date = DateField(_l("Start"), validators=[Optional()])
    end_date = DateField(_l("End"), validators=[Optional()])
    implementer = StringField(_l("Implementer"), validators=[Length(max=120)])
    items = FieldList(FormField(LineItemForm), min_entries=1, max_entries=60)
    milestones = FieldList(FormField(MilestoneForm), min_entries=1, max_entries=20)
    nonce = HiddenField(validators=[Length(max=64)])

    def setup(self, funding_round, needs) -> None:
        self.category.choices = choices(
            [("", _l("Choose…"))] + [(c.code, c.name) for c in funding_round.categories]
        )
        self.needs.choices = choices((n.id, n.title) for n in needs)

    def pad(self, items: int = 3, milestones: int = 2) -> None:
        """Blank rows to fill in (more appear after each save; no JavaScript needed)."""
        for _ in range(items):
            self.items.append_entry()
        for _ in range(milestones):
            self.milestones.append_entry()

    def validate_end_date(self, field):
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date is before the start date."))

    def item_rows(self):
        return [
            (f.description.data, f.quantity.data, f.unit.data, f.unit_cost.data)
            for f in (row.form for row in self.items)
        ]

    def milestone_rows(self):
        return [(row.form.title.data, row.form.planned_date.data) for row in self.milestones]

    def data_fields(self) -> dict:
        return {
            "title": self.title.data,
            "summary": self.summary.data,
            "category_code": self.category.data,
            "beneficiaries_count": self.beneficiaries_count.data or 0,
            "beneficiaries_desc": self.beneficiaries_desc.data,
            "location": self.location.data,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "implementer": self.implementer.data,
        }


class VersionForm(BaseForm):
    """Submit, withdraw: carries the version the person saw."""

    expected_version = IntegerField(validators=[Optional(), NumberRange(min=0, max=10_000)])


class ReviewForm(BaseForm):
    decision = SelectField(
        _l("Decision"),
        choices=choices(
            [
                ("approve", _l("Approve for the ballot")),
                ("return", _l("Return with comments")),
                ("reject", _l("Reject")),
            ]
        ),
        validators=[DataRequired()],
    )
    comment = TextAreaField(
        _l("Comments (public; required to return or reject)"),
        validators=[Optional(), Length(max=4000)],
    )
    expected_version = HiddenField()


class DocumentForm(BaseForm):
    name = HiddenField(validators=[DataRequired(), Length(max=80)])
    file = FileField(
        _l("File (PDF or photo, at most 10 MB)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileSize(10 * 1024 * 1024, message=_l("Files can be at most 10 MB.")),
        ],
    )
