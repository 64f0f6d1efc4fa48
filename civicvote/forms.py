"""The shared base form: CSRF from Flask-WTF, and whitespace stripped from every text field."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = list(unbound_field.kwargs.get("filters", []))
            if strip_text not in filters:
                filters.append(strip_text)
            return unbound_field.bind(form=form, filters=filters, **options)


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes: easier to tap on a phone than a list box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
