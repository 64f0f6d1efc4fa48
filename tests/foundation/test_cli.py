"""The console script: shared configuration, admin creation, demo data, serve's safety checks."""

import os
import subprocess
import sys

import pytest

from civicvote.accounts.models import User
from civicvote.communities.models import Community
from civicvote.extensions import db
from tests.conftest import REPO


def test_create_admin(runner, app):
    result = runner.invoke(
        args=[
            "create-admin",
            "--username",
            "boss",
            "--password",
            "a long password",
            "--display-name",
            "主任",
        ]
    )
    assert result.exit_code == 0, result.output
    boss = db.session.scalar(db.select(User).filter_by(username="boss"))
    assert boss.is_admin and boss.check_password("a long password")
    again = runner.invoke(
        args=["create-admin", "--username", "boss", "--password", "a long password"]
    )
    assert again.exit_code != 0
    assert "boss" in again.output


def test_create_admin_refuses_short_passwords(runner, app):
    result = runner.invoke(args=["create-admin", "--username", "boss", "--password", "short"])
    assert result.exit_code != 0
    assert db.session.scalar(db.select(User).filter_by(username="boss")) is None


def test_seed_demo_loads_a_district_once(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(db.func.count(Community.id))) == 2
    again = runner.invoke(args=["seed-demo"])
    assert "already" in again.output
    assert db.session.scalar(db.select(db.func.count(Community.id))) == 2


def _civicvote(args, env, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "civicvote", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli_env(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "CIVICVOTE_INSTANCE_PATH": str(tmp_path / "instance"),
            "CIVICVOTE_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
            "CIVICVOTE_PUBLIC_BASE_URL": "https://vote.example.cn",
        }
    )
    env.pop("CIVICVOTE_SECRET_KEY", None)
    return env


def test_every_command_reads_the_same_database(cli_env, tmp_path):
    assert _civicvote(["db", "upgrade"], cli_env).returncode == 0
    made = _civicvote(
        ["create-admin", "--username", "boss", "--password", "a long password"], cli_env
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "shared.db").exists()
    # The secret key is generated once into the instance folder and reused.
    key = (tmp_path / "instance" / "secret_key").read_text()
    assert len(key) == 64
    _civicvote(["db", "current"], cli_env)
    assert (tmp_path / "instance" / "secret_key").read_text() == key


def test_serve_refuses_memory_rate_limits_with_several_workers(cli_env):
    _civicvote(["db", "upgrade"], cli_env)
    cli_env["CIVICVOTE_RATELIMIT_STORAGE_URL"] = "memory://"
    result = _civicvote(["serve", "--workers", "2"], cli_env)
    assert result.returncode != 0
    assert "CIVICVOTE_RATELIMIT_STORAGE_URL" in result.stderr


def test_serve_refuses_an_unmigrated_database(cli_env):
    result = _civicvote(["serve", "--workers", "1"], cli_env)
    assert result.returncode != 0
    assert "civicvote db upgrade" in result.stderr


def test_the_quick_start_demo_serves_the_demo_district(tmp_path):
    """README's first command: ``civicvote demo`` loads the district and keeps serving it."""
    import time
    import urllib.request

    from tests.servers import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICVOTE_")}
    env["CIVICVOTE_INSTANCE_PATH"] = str(tmp_path / "instance")
    port, log = free_port(), tmp_path / "demo.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "civicvote", "demo", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, page = time.monotonic() + 120, None
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/c/xingfuli", timeout=5
                ) as answer:
                    page = answer.read().decode()
            except OSError:
                time.sleep(0.5)
        assert server.poll() is None, log.read_text()
        assert page is not None and "幸福里社区" in page
        assert (tmp_path / "instance" / "civicvote.db").exists()
        assert (tmp_path / "instance" / "demo-cards.csv").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("variable", "url", "extra"),
    [
        ("CIVICVOTE_DATABASE_URL", "postgresql://civicvote@127.0.0.1/civicvote", "postgres"),
        ("CIVICVOTE_DATABASE_URL", "postgresql+psycopg://civicvote@db/civicvote", "postgres"),
        ("CIVICVOTE_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0", "redis"),
    ],
)
def test_a_service_without_its_driver_names_the_extra(monkeypatch, tmp_path, variable, url, extra):
    """psycopg and redis are extras; the configuration says which to install, before any import."""
    from importlib.util import find_spec

    from civicvote import config

    monkeypatch.setattr(
        config, "find_spec", lambda name: None if name in ("psycopg", "redis") else find_spec(name)
    )
    monkeypatch.setenv("CIVICVOTE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(variable, url)
    with pytest.raises(config.MissingDriver) as refused:
        config.load_config()
    assert f"pip install 'civicvote[{extra}]'" in refused.value.format_message()
    assert variable in refused.value.format_message()
    monkeypatch.setattr(config, "find_spec", find_spec)  # installed here: accepted
    assert config.load_config()


def test_serve_requires_the_public_base_url(cli_env):
    """Fails on the old code: serve started, and printed links followed the Host header."""
    del cli_env["CIVICVOTE_PUBLIC_BASE_URL"]
    assert _civicvote(["db", "upgrade"], cli_env).returncode == 0
    result = _civicvote(["serve", "--workers", "1"], cli_env)
    assert result.returncode != 0
    assert "CIVICVOTE_PUBLIC_BASE_URL" in result.stderr


def test_instance_files_are_readable_by_their_owner_only(cli_env, tmp_path):
    """Fails on the old code: the database and the card file were created world-readable."""
    del cli_env["CIVICVOTE_DATABASE_URL"]  # the default SQLite file in the instance folder
    instance = tmp_path / "instance"
    assert _civicvote(["seed-demo"], cli_env, timeout=300).returncode == 0
    cards = tmp_path / "cards.csv"
    ballot = _civicvote(["ballots", "list"], cli_env).stdout.split("\t", 1)[0]
    issued = _civicvote(
        ["credentials", "issue", "--ballot", ballot, "--count", "2", "--out", str(cards)], cli_env
    )
    assert issued.returncode == 0, issued.stderr
    private = [
        instance / "civicvote.db",
        instance / "secret_key",
        instance / "demo-cards.csv",
        cards,
    ]
    private += list(instance.glob("audit_signing_key*"))
    for path in private:
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_workers_starting_at_once_agree_on_one_complete_secret_key(tmp_path):
    """Fails on the old code now and then: a worker could read the key file before the other
    had written it (an empty secret key)."""
    import concurrent.futures

    from civicvote.config import _secret_key

    env_key = os.environ.pop("CIVICVOTE_SECRET_KEY", None)
    try:
        for attempt in range(20):
            folder = tmp_path / f"instance{attempt}"
            with concurrent.futures.ProcessPoolExecutor(4) as pool:
                keys = list(pool.map(_secret_key, [folder] * 8))
            assert len(set(keys)) == 1 and len(keys[0]) == 64, keys
    finally:
        if env_key is not None:
            os.environ["CIVICVOTE_SECRET_KEY"] = env_key
