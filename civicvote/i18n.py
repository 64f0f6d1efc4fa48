"""Locale choice and locale-aware formatting of numbers, money and dates."""

from decimal import Decimal

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_currency
from flask import current_app, has_request_context, request
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
    ngettext,
    to_user_timezone,
)

LOCALE_COOKIE = "civicvote_lang"
# How each supported locale is offered in the switcher: always in its own language.
LOCALE_NAMES = {"zh_Hans": "中文", "en": "English"}


def select_locale() -> str:
    """The visitor's explicit choice (a cookie set by the switcher), else Accept-Language."""
    if not has_request_context():  # CLI commands and background work speak the default
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in supported:
        return chosen
    for value, _quality in request.accept_languages:
        tag = value.lower().replace("_", "-")
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang() -> str:
    """The BCP 47 tag of the active locale for ``<html lang>`` (``zh-Hans``, ``en``)."""
    locale = get_locale() or Locale.parse("zh_Hans")
    return "-".join(part for part in (locale.language, locale.script) if part)


def money(fen: int | None) -> str:
    """Format an amount of integer fen as yuan (¥) in the active locale."""
    if fen is None:
        return ""
    locale = get_locale() or Locale.parse("zh_Hans")
    # Babel's English spells the yuan "CN¥"; residents and donors here know it as ¥, so English
    # pages keep English grouping and signs with the plain ¥ sign.
    pattern = "¥#,##0.00" if locale.language == "en" else None
    return format_currency(Decimal(fen) / 100, "CNY", locale=locale, format=pattern)


def number(value) -> str:
    return format_decimal(value)


def when(value) -> str:
    """A moment residents plan by (a vote opening, an assembly): the weekday, the date and the
    time in the active locale and the instance's time zone (``2026年6月1日周一 09:30``)."""
    if value is None:
        return ""
    locale = get_locale() or Locale.parse("zh_Hans")
    day = format_skeleton("yMMMEd", to_user_timezone(value), locale=locale)
    return f"{day} {format_time(value, 'short')}"


def file_size(size: int | None) -> str:
    """A file's size for people: bytes below 1 KB ("400 字节"), else KB or MB with at most one
    decimal ("1.2 KB"), in the active locale's digits (1 KB = 1,024 bytes)."""
    if size is None:
        return ""
    if size < 1024:
        return ngettext("%(count)s byte", "%(count)s bytes", size, count=format_decimal(size))
    if size < 1024 * 1024:
        return gettext("%(size)s KB", size=format_decimal(size / 1024, "#,##0.#"))
    return gettext("%(size)s MB", size=format_decimal(size / (1024 * 1024), "#,##0.#"))


def register_template_helpers(app) -> None:
    from .qr import qr_svg

    app.jinja_env.globals.update(
        qr_svg=qr_svg,
        html_lang=html_lang,
        LOCALE_NAMES=LOCALE_NAMES,
        get_locale=get_locale,
    )
    app.jinja_env.filters.update(
        money=money,
        number=number,
        when=when,
        filesize=file_size,
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
    )
