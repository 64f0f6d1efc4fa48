"""The shared base form: CSRF from Flask-WTF, and whitespace stripped from every text field."""

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


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
