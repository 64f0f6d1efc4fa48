"""What a new password must not be: short, common, the username, or one character repeated.

The common list (common_passwords.txt, made by scripts/common_passwords.py) holds passwords
of 10 or more characters that people often choose; shorter ones are refused for their length.
Since login guesses are limited per account and address but never lock the account
(accounts/views.py), these rules are what makes guessing from many addresses hopeless.
"""

from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from ..errors import DomainError
from .models import MIN_PASSWORD

COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
MIN_DISTINCT = 4  # "aaaaaaaaaa", "1212121212"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(COMMON_FILE.read_text(encoding="utf-8").split())


def check_new_password(password: str, username: str = "") -> None:
    """Raise DomainError (translated, code "password") unless ``password`` may be set for the
    account ``username``."""
    if len(password) < MIN_PASSWORD:
        raise DomainError(
            lazy_ngettext(
                "A password needs at least %(num)d character.",
                "A password needs at least %(num)d characters.",
                MIN_PASSWORD,
            ),
            code="password",
        )
    folded = password.strip().lower()
    if username and folded == username.strip().lower():
        raise DomainError(_l("The password must not be the username."), code="password")
    if len(set(folded)) < MIN_DISTINCT or folded in common_passwords():
        raise DomainError(
            _l("This password is too common or too easy to guess. Please choose another."),
            code="password",
        )
