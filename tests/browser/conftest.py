"""Headless Chromium (Debian's package) driven by Playwright against a real gunicorn server."""

import csv
import json
import os
import sqlite3
import urllib.request
from pathlib import Path

import pytest

from tests.factories import PASSWORD
from tests.servers import REPO, Server, civicvote, demo_ballot_id, run_python, server_env

# Every user's password in the demo district (``civicvote seed-demo``); factories' users have
# tests.factories.PASSWORD.
DEMO_PASSWORD = "demo-password-2026"
CHROMIUM = os.environ.get("CIVICVOTE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
# Chromium as root in a sandbox, on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


# The ``chromium`` fixture is in tests/conftest.py: one Playwright per test process, shared with
# tests/e2e (a second sync Playwright in the same process cannot start).


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A gunicorn server over a fresh SQLite database holding the demo district."""
    instance = tmp_path_factory.mktemp("demo-instance")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    server = Server(env, log_path=instance / "server.log")
    yield server
    server.stop()


def seeded_server(tmp_path_factory, name: str, seed_module: str):
    """A gunicorn server over a fresh database filled by ``python -m <seed_module>``, whose
    last line of output (JSON) becomes ``server.seed``; yields the server, then stops it."""
    instance = tmp_path_factory.mktemp(name)
    env = server_env(instance)
    civicvote(["db", "upgrade"], env)
    seed = run_python(env, "-m", seed_module)
    server = Server(env, log_path=instance / "server.log")
    server.seed = seed
    yield server
    server.stop()


def built_server(
    tmp_path_factory, name: str, build, *, demo: bool = False, share_instance: bool = False
):
    """A gunicorn server over a fresh SQLite database that ``build()`` fills, called inside an
    app context (tests.factories and the services work there), after ``db upgrade`` (or
    ``seed-demo`` if ``demo``). ``build`` returns a dict of what the tests need; "url" (the
    server's), "instance" and "log" are added. Yields the dict, then stops the server. Use it
    from a module-scoped fixture: ``yield from built_server(tmp_path_factory, "x", build)``.
    ``share_instance``: ``build`` runs with the server's instance folder (and so its audit
    signing key), not a folder of its own."""
    from civicvote import create_app
    from civicvote.extensions import db
    from tests.conftest import test_config

    instance = tmp_path_factory.mktemp(name)
    env = server_env(instance)
    civicvote(["seed-demo"] if demo else ["db", "upgrade"], env)
    folder = instance if share_instance else instance / "local"
    app = create_app(test_config(env["CIVICVOTE_DATABASE_URL"], folder))
    with app.app_context():
        data = build()
        db.session.remove()
        db.engine.dispose()  # the server opens its own connections; leave none behind
    server = Server(env, log_path=instance / "server.log")
    data.update(url=server.url, instance=instance, log=instance / "server.log")
    yield data
    server.stop()


def base_url(server) -> str:
    """The base URL of a Server, a built server's dict, or a URL."""
    if isinstance(server, str):
        return server
    if isinstance(server, dict):
        return server["url"]
    return server.url


def log_in(page, server, username: str, password: str = PASSWORD) -> None:
    """Sign ``username`` in on ``page`` through ``server``'s login form (the form's field
    names, so any locale), and wait until the form has let them in."""
    page.goto(base_url(server) + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def logged_in(chromium):
    """``logged_in(server, username, password=..., viewport=..., locale=...)``: a new page in
    its own context, signed in; the contexts close after the test."""
    contexts = []

    def open_page(server, username, password=PASSWORD, *, viewport=None, locale="zh-CN", **options):
        size = viewport or {"width": 1280, "height": 900}
        context = locale_context(chromium, locale, size, **options)
        contexts.append(context)
        page = context.new_page()
        log_in(page, server, username, password)
        return page

    yield open_page
    for context in contexts:
        context.close()


def locale_context(chromium, locale: str, viewport: dict, **options):
    """A browser context at ``viewport`` speaking ``locale`` (its Accept-Language too), one
    device pixel per CSS pixel, so that sizes measured are the ones asked for."""
    return chromium.new_context(
        viewport=viewport,
        locale=locale,
        device_scale_factor=1,
        extra_http_headers={"Accept-Language": locale},
        **options,
    )


@pytest.fixture
def phone(chromium):
    """A phone-sized page speaking Chinese, the residents' default."""
    context = locale_context(chromium, "zh-CN", PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_en(chromium):
    context = locale_context(chromium, "en", PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(chromium):
    context = locale_context(chromium, "zh-CN", {"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def demo_vote_server(tmp_path_factory, name: str, prepare=None) -> Server:
    """A gunicorn server over the demo district with its ballot open. The demo asks half the
    households for quorum (docs/rules.md: below quorum nothing is funded); here 12 voters meet
    it, set while the ballot is still a draft. ``prepare(database, ballot_id)`` may change the
    draft further. The server carries ``env``, ``cards`` (demo-cards.csv rows), ``ballot_id``,
    ``proposals`` (the ballot's proposal ids) and ``round_id``; the caller stops it."""
    instance = tmp_path_factory.mktemp(name)
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    server = Server(env, log_path=instance / "server.log")
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        server.cards = list(csv.DictReader(handle))
    ballot_id = demo_ballot_id(env)
    with sqlite3.connect(instance / "civicvote.db") as database:
        database.execute(
            "UPDATE ballots SET quorum_kind = 'minimum', quorum_value = 12 WHERE id = ?",
            (ballot_id,),
        )
        if prepare is not None:
            prepare(database, ballot_id)
    civicvote(["ballots", "open", str(ballot_id)], env)
    with urllib.request.urlopen(f"{server.url}/api/v1/ballots/{ballot_id}") as response:
        opened = json.load(response)
    server.env, server.ballot_id, server.round_id = env, ballot_id, opened["round_id"]
    server.proposals = [p["id"] for p in opened["proposals"]]
    return server


def publish_provisional(chromium, server):
    """The organizer counts the closed ballot on the allocation console: the provisional
    result is published. Returns the organizer's page (its context still open)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk = context.new_page()
    log_in(desk, server, "organizer", DEMO_PASSWORD)
    desk.goto(f"{server.url}/console/c/xingfuli/rounds/{server.round_id}/allocation")
    desk.get_by_role("button", name="计票并公示初步结果").click()
    assert desk.get_by_role("status").inner_text() == "初步结果已公示。"
    return desk
