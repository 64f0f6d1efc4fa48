"""Organizer accounts: creation, authentication and community roles."""

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..ratelimit import FailureLimit, TooManyAttempts
from ..timeutil import utcnow
from .models import COMMUNITY_ROLES, Membership, User
from .passwords import check_new_password


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Always hashes, to keep timing even."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        User(password_hash="").set_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


# Staff login backoff. A limit per account name alone lets a stranger keep the clerk out during
# the assembly by mistyping her username; a limit per address alone lets a hall's Wi-Fi lock
# everyone there. So:
# * Guesses are limited per (account, address) before the password is checked, in growing
#   windows (a few a minute, more an hour): one address guessing one account is slowed more and
#   more, and refused even when it hits the password. Other addresses are not affected.
# * Across all addresses an account's failures are counted too. Past that budget a wrong
#   password answers 429 (wait) instead of 401 and is logged for the administrators, but a
#   correct password still logs in: no one can turn it into a lockout of the real clerk.
#   Guessing from many addresses is bounded by the first limit times the addresses, and made
#   hopeless by the password rules (accounts/passwords.py).
LOGIN_HERE = FailureLimit("login.here", "RATELIMIT_LOGIN", "10 per minute; 50 per hour")
LOGIN_ACCOUNT = FailureLimit("login.account", "RATELIMIT_LOGIN_ACCOUNT", "30 per 10 minutes")


def log_in(username: str, password: str, address: str | None) -> User | None:
    """:func:`authenticate` under the login backoff, for a client at ``address``: the user, or
    None for wrong credentials; TooManyAttempts when this address has used up its guesses at
    this account, or (for a wrong password only) the account its budget from everywhere."""
    account = (username or "").strip().lower()[:64]
    here = f"{account}|{address}"
    LOGIN_HERE.check(here)
    user = authenticate(username, password)
    if user is not None:
        return user
    LOGIN_HERE.count_failure(here)
    wait = LOGIN_ACCOUNT.retry_after(account)
    LOGIN_ACCOUNT.count_failure(account)
    if wait is not None:
        current_app.logger.warning("many failed logins for account %r", account)
        raise TooManyAttempts(wait)
    return None


def log_out(user: User) -> None:
    """End every session of ``user`` on the server: a copy of a session cookie taken before
    the logout no longer opens anything (the session id carries the session version)."""
    user.end_sessions()
    db.session.commit()


def create_user(
    username: str,
    password: str,
    *,
    display_name: str = "",
    is_admin: bool = False,
    organization_id: int | None = None,
    actor=None,
) -> User:
    check_new_password(password, username)
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise Conflict(_l("The username %(name)s is taken.", name=username))
    user = User(
        username=username,
        display_name=display_name or username,
        is_admin=is_admin,
        organization_id=organization_id,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(
        "user.create",
        "user",
        user.id,
        actor=actor,
        after={"username": username, "is_admin": is_admin},
    )
    db.session.commit()
    return user


def grant_role(username: str, community_id: int, role: str, *, actor=None) -> Membership:
    if role not in COMMUNITY_ROLES:
        raise NotFound(_l("Unknown role."))
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        raise NotFound(_l("No user is called %(name)s.", name=username))
    existing = db.session.scalar(
        db.select(Membership).filter_by(user_id=user.id, community_id=community_id, role=role)
    )
    if existing:
        return existing
    membership = Membership(user_id=user.id, community_id=community_id, role=role)
    db.session.add(membership)
    db.session.flush()
    record(
        "membership.grant",
        "user",
        user.id,
        actor=actor,
        community_id=community_id,
        after={"role": role},
    )
    db.session.commit()
    return membership


def change_password(user: User, current: str, new: str) -> None:
    """The user's own change: the current password first. Other sessions end with it."""
    if not user.check_password(current):
        raise Forbidden(_l("The current password is wrong."), code="wrong_password")
    check_new_password(new, user.username)
    if user.check_password(new):
        raise DomainError(_l("Choose a password different from the current one."))
    user.set_password(new)
    record("user.password", "user", user.id, actor=user)
    db.session.commit()


def reset_password(user: User, new: str, *, actor) -> None:
    """An administrator sets a new password (the holder forgot it); their sessions end."""
    check_new_password(new, user.username)
    user.set_password(new)
    record("user.password_reset", "user", user.id, actor=actor)
    db.session.commit()


def set_active(user: User, active: bool, *, actor) -> None:
    """Deactivate an account (it can no longer log in; its sessions end) or reactivate it."""
    if user.id == getattr(actor, "id", None) and not active:
        raise Conflict(_l("You cannot deactivate your own account."), code="self")
    if user.active == active:
        return
    user.active = active
    record("user.activate" if active else "user.deactivate", "user", user.id, actor=actor)
    db.session.commit()


def revoke_role(membership: Membership, *, actor=None) -> None:
    """Take one community role away from a user."""
    record(
        "membership.revoke",
        "user",
        membership.user_id,
        actor=actor,
        community_id=membership.community_id,
        before={"role": membership.role},
    )
    db.session.delete(membership)
    db.session.commit()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such account."))
    return user
