"""Money typed by people: one parser (money.parse_yuan) behind every money field (YuanField)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicvote import create_app
from civicvote.errors import DomainError
from civicvote.forms import BaseForm, YuanField
from civicvote.i18n import money
from civicvote.money import MAX_FEN, fen_to_yuan_text, parse_yuan
from tests.conftest import test_config


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory):
    config = test_config("sqlite://", tmp_path_factory.mktemp("money"))
    return create_app({**config, "WTF_CSRF_ENABLED": False})


@pytest.mark.parametrize(
    "text, fen",
    [
        ("10万", 10_000_000),
        ("1.5万", 1_500_000),
        ("10 万", 10_000_000),
        ("１０万", 10_000_000),
        ("１．５万", 1_500_000),
        ("¥100,000", 10_000_000),
        ("￥１００，０００", 10_000_000),
        ("100000元", 10_000_000),
        ("10万元", 10_000_000),
        ("¥ 1.2345万", 1_234_500),
        ("CN¥1,234.50", 123_450),
        ("0.0001万", 100),
        ("1亿", MAX_FEN),
        ("35.5", 3550),
        ("二十万", 20_000_000),
        ("十万", 10_000_000),
        ("十五万元", 15_000_000),
        ("一百二十万", 120_000_000),
        ("两万", 2_000_000),
        ("一万零五百", 1_050_000),
        ("三十五点五", 3550),
        ("一点五万", 1_500_000),
        ("贰拾万元整", 20_000_000),
        ("一亿", MAX_FEN),
    ],
)
def test_amounts_are_read_as_people_write_them(plain_app, text, fen):
    with plain_app.test_request_context():
        assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "万",
        "10万万",
        "1.0000001万",
        "1e3万",
        "-1万",
        "0万",
        "1.1亿",
        "10千",
        "1,5.5元x",
        # Spoken shorthand: literally 10,002 and 3,005, meant as 12,000 and 3,500.
        "一万二",
        "三千五",
        "一千二万",
        "一二",
        "十十",
        "一万二万",
        "点五",
        "一亿零一",  # over ¥100,000,000
    ],
)
def test_what_is_not_an_amount_is_refused(plain_app, text):
    with plain_app.test_request_context(), pytest.raises(DomainError):
        parse_yuan(text)


def test_range_checks_say_the_limit_in_the_active_locale(plain_app):
    with plain_app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(DomainError) as error:
            parse_yuan("2万", maximum_fen=1_000_000)
        assert "¥10,000.00" in str(error.value.message)
        with pytest.raises(DomainError) as error:
            parse_yuan("1", minimum_fen=500)
        assert "¥5.00" in str(error.value.message)
        message = ""
        try:
            parse_yuan("abc")
        except DomainError as refused:
            message = str(refused.message)
        assert "10万" in message and "请" in message  # translated, with the 万 example


@settings(max_examples=300, deadline=None)
@given(fen=st.integers(min_value=1, max_value=MAX_FEN), locale=st.sampled_from(["zh-CN", "en"]))
def test_what_the_app_writes_reads_back(plain_app, fen, locale):
    """parse(format(x)) == x for the page's format in both locales, the form's text and 万."""
    with plain_app.test_request_context(headers={"Accept-Language": locale}):
        assert parse_yuan(money(fen)) == fen
        assert parse_yuan(fen_to_yuan_text(fen)) == fen
        wan = format(Decimal(fen) / 1_000_000, "f")
        assert parse_yuan(f"{wan}万") == fen


class _Form(BaseForm):
    amount = YuanField("amount", maximum_fen=5_000_000)


@pytest.mark.parametrize(
    "typed, data, valid",
    [("1.5万", 1_500_000, True), ("６万", None, False), ("x", None, False), ("", None, True)],
)
def test_the_form_field_parses_checks_and_keeps_what_was_typed(plain_app, typed, data, valid):
    with plain_app.test_request_context(method="POST", data={"amount": typed}):
        form = _Form()
        assert form.validate() is valid
        assert form.amount.data == data
        assert form.amount._value() == typed  # shown back as typed
        if not valid:
            assert form.amount.errors
    with plain_app.test_request_context():
        form = _Form(formdata=None)
        form.amount.data = 1_500_000
        assert 'value="15000.00"' in form.amount()


_DIGITS = "零一二三四五六七八九"


def _spelled(n: int) -> str:
    """n (1 to 10^8) in Chinese numerals as a bank form writes it, independently of money.py."""

    def four(m: int) -> str:
        out, gap = "", False
        for size, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = m // size % 10
            if d == 0:
                gap = bool(out)
            else:
                out += ("零" if gap else "") + _DIGITS[d] + unit
                gap = False
        return out

    yi, wan, rest = n // 10**8, n // 10**4 % 10**4, n % 10**4
    text = four(yi) + "亿" if yi else ""
    if wan:
        text += ("零" if yi and wan < 1000 else "") + four(wan) + "万"
    if rest:
        text += ("零" if (yi or wan) and (rest < 1000 or not wan) else "") + four(rest)
    return text


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 100_000_000))
def test_any_whole_amount_in_chinese_numerals_reads_back(plain_app, n):
    with plain_app.test_request_context():
        assert parse_yuan(_spelled(n) + "元") == n * 100, _spelled(n)
