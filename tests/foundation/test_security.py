"""Access rules, login rate limits and security headers."""

import pytest

from civicvote.accounts.models import ORGANIZER, REVIEWER, SUPERVISOR
from tests import factories

ORGANIZER_PAGES = ["/console", "/console/c/{slug}", "/admin/users"]


@pytest.mark.parametrize("path", ORGANIZER_PAGES)
def test_anonymous_users_are_sent_to_login(client, path):
    place = factories.community()
    response = client.get(path.format(slug=place.slug))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", [ORGANIZER, REVIEWER, SUPERVISOR])
def test_roles_are_scoped_to_their_community(client, role):
    home = factories.community(name="A")
    elsewhere = factories.community(name="B")
    factories.user("staff", roles=[(home, role)])
    assert factories.login(client, "staff").status_code == 302
    assert client.get(f"/console/c/{home.slug}").status_code == 200
    assert client.get(f"/console/c/{elsewhere.slug}").status_code == 403


def test_admin_sees_every_community_and_user_admin(client):
    first, second = factories.community(), factories.community()
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    for place in (first, second):
        assert client.get(f"/console/c/{place.slug}").status_code == 200
    assert client.get("/admin/users").status_code == 200


def test_non_admin_cannot_manage_accounts(client):
    place = factories.community()
    factories.user("staff", roles=[(place, ORGANIZER)])
    factories.login(client, "staff")
    assert client.get("/admin/users").status_code == 403


def test_wrong_password_is_refused(client):
    factories.user("staff")
    response = factories.login(client, "staff", "not the password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/console").status_code == 302


def test_inactive_user_cannot_log_in(client):
    factories.user("gone", active=False)
    assert factories.login(client, "gone").status_code == 401


def test_passwords_are_stored_hashed(app):
    account = factories.user("staff")
    assert account.password_hash.startswith("scrypt:")
    assert factories.PASSWORD not in account.password_hash


def test_login_is_rate_limited(app, client):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    factories.user("staff")
    statuses = [factories.login(client, "staff", "wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Still limited with the right password from this address: the limit slows guessing.
    assert factories.login(client, "staff").status_code == 429


def _from(app, address: str):
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = address
    return other


def test_a_stranger_hammering_a_username_cannot_keep_the_clerk_out(app):
    """Fails on the old code: ten wrong passwords a minute for a name locked that account out
    from every address."""
    factories.user("clerk")
    for n in range(30):  # many strangers, or one behind many addresses
        stranger = _from(app, f"198.51.100.{n}")
        assert factories.login(stranger, "clerk", f"guess {n}").status_code in (401, 429)
        assert factories.login(stranger, "clerk", f"guess {n}!").status_code in (401, 429)
    clerk = _from(app, "203.0.113.5")
    assert factories.login(clerk, "clerk").status_code == 302
    assert clerk.get("/console").status_code == 200


def test_past_the_account_budget_wrong_passwords_wait_and_right_ones_log_in(app):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "4 per 10 minutes"
    factories.user("clerk")
    statuses = [
        factories.login(_from(app, f"198.51.100.{n}"), "clerk", "wrong").status_code
        for n in range(6)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]
    assert factories.login(_from(app, "198.51.100.99"), "clerk").status_code == 302


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/login", "/api/v1/rounds"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_session_cookie_is_httponly_and_samesite(client):
    factories.user("staff")
    response = factories.login(client, "staff")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_admin_creates_account_and_grants_role(client):
    place = factories.community()
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    token = factories.csrf_token(client.get("/admin/users").get_data(as_text=True))
    created = client.post(
        "/admin/users",
        data={
            "user-csrf_token": token,
            "csrf_token": token,
            "user-submit": "1",
            "user-username": "newbie",
            "user-display_name": "新人",
            "user-password": "long enough pw",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    granted = client.post(
        "/admin/users",
        data={
            "role-csrf_token": token,
            "role-submit": "1",
            "role-username": "newbie",
            "role-community": str(place.id),
            "role-role": ORGANIZER,
        },
    )
    assert granted.status_code == 302
    client.post("/logout", data={"csrf_token": token})
    factories.login(client, "newbie", "long enough pw")
    assert client.get(f"/console/c/{place.slug}").status_code == 200


def test_admin_form_rejects_bad_usernames(client):
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    token = factories.csrf_token(client.get("/admin/users").get_data(as_text=True))
    response = client.post(
        "/admin/users",
        data={
            "user-csrf_token": token,
            "user-submit": "1",
            "user-username": "<script>",
            "user-display_name": "x" * 500,
            "user-password": "short",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<script>" not in page
    assert "只能使用字母" in page
