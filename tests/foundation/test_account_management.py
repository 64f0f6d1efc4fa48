"""Staff accounts over time: own password changes, resets, deactivation and revoked roles."""

import pytest

from civicvote.accounts.models import CLERK, ORGANIZER, Membership, User
from civicvote.accounts.services import change_password, set_active
from civicvote.audit.models import AuditEvent
from civicvote.errors import Conflict, DomainError, Forbidden
from civicvote.extensions import db
from tests import factories
from tests.conftest import IsolatedClient

NEW = "a brand new secret 2026"


def actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))


def change(client, current, new, repeat=None):
    token = factories.csrf_token(client.get("/account").get_data(as_text=True))
    form = {"csrf_token": token, "current": current, "new": new, "repeat": repeat or new}
    return client.post("/account", data=form)


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, client):
    community = factories.community()
    factories.user("wang", roles=[(community, ORGANIZER)])
    laptop = IsolatedClient(app)
    assert factories.login(client, "wang").status_code == 302
    assert factories.login(laptop, "wang").status_code == 302
    console = f"/console/c/{community.slug}"
    assert laptop.get(console).status_code == 200
    assert change(client, "wrong password!", NEW).status_code == 403
    assert change(client, factories.PASSWORD, "short").status_code == 422
    assert change(client, factories.PASSWORD, NEW, repeat=NEW + "x").status_code == 422
    assert change(client, factories.PASSWORD, NEW).status_code == 302
    assert client.get(console).status_code == 200  # this session carries on
    assert laptop.get(console).status_code == 302  # the other one is signed out
    client.get("/logout")
    assert factories.login(client, "wang").status_code == 401  # the old password is gone
    assert factories.login(client, "wang", NEW).status_code == 302
    assert actions().count("user.password") == 1


def test_the_current_password_is_checked_in_the_service(app):
    user = factories.user("li")
    with pytest.raises(Forbidden):
        change_password(user, "not it at all", NEW)
    with pytest.raises(DomainError):
        change_password(user, factories.PASSWORD, factories.PASSWORD)
    with pytest.raises(DomainError):
        change_password(user, factories.PASSWORD, "2short")
    assert user.check_password(factories.PASSWORD)


def test_an_administrator_resets_deactivates_and_revokes(app, client):
    community = factories.community()
    factories.user("boss", is_admin=True)
    clerk = factories.user("zhao", roles=[(community, CLERK), (community, ORGANIZER)])
    desk = IsolatedClient(app)
    assert factories.login(desk, "zhao").status_code == 302
    factories.login(client, "boss")
    page = client.get(f"/admin/users/{clerk.id}").get_data(as_text=True)
    token = factories.csrf_token(page)
    url = f"/admin/users/{clerk.id}"

    organizer = db.session.scalar(db.select(Membership).filter_by(user_id=clerk.id, role=ORGANIZER))
    assert (
        client.post(
            url, data={"csrf_token": token, "action": "revoke", "membership": organizer.id}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert {m.role for m in db.session.get(User, clerk.id).memberships} == {CLERK}
    assert desk.get(f"/console/c/{community.slug}/rounds/new").status_code == 403
    other = factories.user("qian", roles=[(community, CLERK)]).memberships[0]
    foreign = {"csrf_token": token, "action": "revoke", "membership": other.id}
    assert client.post(url, data=foreign).status_code == 404  # not this account's role

    assert client.post(url, data={"csrf_token": token, "action": "deactivate"}).status_code == 302
    assert desk.get(f"/console/c/{community.slug}").status_code == 302  # signed out at once
    assert factories.login(desk, "zhao").status_code == 401
    client.post(url, data={"csrf_token": token, "action": "activate"})
    reset = {"csrf_token": token, "action": "reset", "password": "short"}
    assert client.post(url, data=reset).status_code == 422
    assert client.post(url, data={**reset, "password": NEW}).status_code == 302
    assert factories.login(desk, "zhao", NEW).status_code == 302
    assert client.get("/admin/users/99999").status_code == 404
    assert actions()[-4:] == [
        "membership.revoke",
        "user.deactivate",
        "user.activate",
        "user.password_reset",
    ]


def test_only_administrators_manage_accounts_and_nobody_locks_themselves_out(app, client):
    boss = factories.user("boss", is_admin=True)
    factories.user("sun")
    factories.login(client, "sun")
    assert client.get(f"/admin/users/{boss.id}").status_code == 403
    assert client.post("/account", data={}).status_code == 400  # no CSRF token
    with pytest.raises(Conflict):
        set_active(boss, False, actor=boss)
    assert db.session.get(User, boss.id).active
