"""Headless Chromium (Debian's package) driven by Playwright against a real gunicorn server."""

import os
from pathlib import Path

import pytest

from tests.servers import REPO, Server, civicvote, server_env

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
    import json
    import subprocess
    import sys

    instance = tmp_path_factory.mktemp(name)
    env = server_env(instance)
    civicvote(["db", "upgrade"], env)
    seeded = subprocess.run(
        [sys.executable, "-m", seed_module],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    server = Server(env, log_path=instance / "server.log")
    server.seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    yield server
    server.stop()


def _context(chromium, locale: str, viewport: dict):
    return chromium.new_context(
        viewport=viewport,
        locale=locale,
        device_scale_factor=1,
        extra_http_headers={"Accept-Language": locale},
    )


@pytest.fixture
def phone(chromium):
    """A phone-sized page speaking Chinese, the residents' default."""
    context = _context(chromium, "zh-CN", PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_en(chromium):
    context = _context(chromium, "en", PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(chromium):
    context = _context(chromium, "zh-CN", {"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
