"""A wheel built from the repository carries the templates, static files, catalogs and migrations,
and works when installed into a fresh virtual environment (not only as an editable install)."""

import os
import subprocess
import sys
import venv

from tests.conftest import REPO


def test_wheel_installs_and_serves_from_a_fresh_venv(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("civicvote-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        # The versions CI tests (constraints.txt); no extras: the SQLite quick start needs none.
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(REPO / "constraints.txt"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )

    # Nothing from the checkout: PYTHONPATH (a worktree under test) would shadow the wheel.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CIVICVOTE_") and k != "PYTHONPATH"
    }
    env["CIVICVOTE_INSTANCE_PATH"] = str(tmp_path / "instance")
    work = tmp_path / "elsewhere"
    work.mkdir()  # run away from the checkout so nothing is found there by accident
    upgraded = subprocess.run(
        [str(env_dir / "bin" / "civicvote"), "db", "upgrade"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    probe = subprocess.run(
        [
            str(python),
            "-c",
            """
import civicvote, pathlib
from civicvote import create_app
app = create_app()
assert pathlib.Path(app.template_folder).is_relative_to(pathlib.Path(civicvote.__file__).parent)
client = app.test_client()
home = client.get('/')
assert home.status_code == 200, home.status_code
assert 'lang="zh-Hans"' in home.get_data(as_text=True)
assert '社区资金怎么花' in home.get_data(as_text=True)
assert client.get('/static/css/app.css').status_code == 200
print('ok')
""",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.strip() == "ok", probe.stderr

    # PostgreSQL and Redis are extras: without them a URL naming either says what to install.
    missing = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u; print(u.find_spec('psycopg'), u.find_spec('redis'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.stdout.split() == ["None", "None"], missing.stdout
    for variable, url, extra in (
        ("CIVICVOTE_DATABASE_URL", "postgresql://civicvote@127.0.0.1/civicvote", "postgres"),
        ("CIVICVOTE_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0", "redis"),
    ):
        refused = subprocess.run(
            [str(env_dir / "bin" / "civicvote"), "serve"],
            cwd=work,
            env={**env, variable: url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode == 1, refused.stderr
        assert f"civicvote[{extra}]" in refused.stderr and "Traceback" not in refused.stderr
