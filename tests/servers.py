"""Real servers for browser and concurrency tests: ``civicvote serve`` (gunicorn) subprocesses."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# One instance secret for the servers and the tests' own apps (tests/conftest.test_config): the
# cards' hashes are keyed by it, so cards issued by one must verify on the other.
SECRET_KEY = "test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def civicvote(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run one ``civicvote`` command and fail loudly with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "civicvote", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"civicvote {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_python(env: dict, *args: str):
    """Run ``python <args>`` (a seed module with ``-m``, or code with ``-c``) against the
    server's database (``env``); its last line of output is JSON, returned."""
    import json

    seeded = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(seeded.stdout.strip().splitlines()[-1])


def vote_by_api(base_url: str, ballot_id: int, token: str, selections: list, key: str) -> None:
    """Cast one approval vote through the JSON API, as a phone app would."""
    import json
    import urllib.request

    body = {"credential": token, "selections": selections, "idempotency_key": key}
    request = urllib.request.Request(
        f"{base_url}/api/v1/ballots/{ballot_id}/votes",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request).close()


class Server:
    """``civicvote serve`` on a free port; ``stop()`` ends it."""

    def __init__(
        self,
        env: dict,
        workers: int = 1,
        threads: int = 4,
        log_path: Path | None = None,
        port: int | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if env.get("CIVICVOTE_PUBLIC_BASE_URL") == PLACEHOLDER_BASE_URL:
            # Printed links (posters, cards) use the configured base, never the Host header:
            # a test server's base is its own address unless the test chose another.
            env = {**env, "CIVICVOTE_PUBLIC_BASE_URL": self.url}
        self.env = env
        self.log_path = log_path
        self._log = open(log_path, "w") if log_path else None  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "civicvote",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            env=env,
            cwd=REPO,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log:
            self._log.close()


PLACEHOLDER_BASE_URL = "http://127.0.0.1:5000"
SERVER_SECRET = SECRET_KEY  # the test servers' key: it seals their ballot boxes


def server_env(instance: Path, database_url: str | None = None, **extra: str) -> dict:
    env = dict(os.environ)
    env["CIVICVOTE_INSTANCE_PATH"] = str(instance)
    env["CIVICVOTE_SECRET_KEY"] = SERVER_SECRET
    env["CIVICVOTE_DATABASE_URL"] = database_url or f"sqlite:///{instance / 'civicvote.db'}"
    env.setdefault("CIVICVOTE_RATELIMIT_STORAGE_URL", "memory://")
    env.setdefault("CIVICVOTE_PUBLIC_BASE_URL", PLACEHOLDER_BASE_URL)  # serve requires it
    env.update(extra)
    return env


def demo_ballot_id(env: dict) -> int:
    """The demo's ballot (a draft, so not in the public API until it opens)."""
    first = civicvote(["ballots", "list"], env).stdout.splitlines()[0]
    return int(first.split("\t", 1)[0])
