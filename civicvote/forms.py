"""The shared base form (CSRF from Flask-WTF, whitespace stripped from every text field) and
shared fields: checkboxes for a multiple choice, and money typed in yuan."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from .errors import DomainError
from .money import MAX_FEN, fen_to_yuan_text, parse_yuan


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form of the app. ``meta={"id_prefix": "source-"}`` gives its fields element ids
    of their own (names unchanged), for a page that shows two forms with the same fields."""

    class Meta:
        id_prefix = ""

        def bind_field(self, form, unbound_field, options):
            extra = {}
            if unbound_field.field_class is CSRFTokenField:
                # A page may hold several forms, each with its token: a hidden input needs no
                # id (no label points at it), and several ids "csrf_token" would clash.
                extra["render_kw"] = {"id": False}
            else:
                filters = list(unbound_field.kwargs.get("filters", []))
                if strip_text not in filters:
                    filters.append(strip_text)
                extra["filters"] = filters
            if self.id_prefix:
                extra["id"] = f"{self.id_prefix}{options.get('prefix', '')}{options['name']}"
            return unbound_field.bind(form=form, **extra, **options)


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes: easier to tap on a phone than a list box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class YuanField(StringField):
    """An amount of money typed in yuan (``1200``, ``¥100,000``, ``10万``, ``1.5万``).

    ``data`` is integer fen (None when left empty); the text typed stays in the box when the
    form comes back with an error. Parsing and range checks are ``money.parse_yuan``'s, so
    every money field accepts and refuses the same things. Combine with ``InputRequired`` or
    ``Optional`` for whether it may be left empty.
    """

    def __init__(
        self, label=None, validators=None, *, minimum_fen=1, maximum_fen=MAX_FEN, **kwargs
    ):
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "decimal")
        super().__init__(label, validators, **kwargs)
        self.minimum_fen = minimum_fen
        self.maximum_fen = maximum_fen

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            return
        try:
            self.data = parse_yuan(text, minimum_fen=self.minimum_fen, maximum_fen=self.maximum_fen)
        except DomainError as error:
            raise ValueError(str(error.message)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return fen_to_yuan_text(self.data)
