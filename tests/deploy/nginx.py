"""nginx (Debian's package) in front of ``civicvote serve`` hosts, as the README deploys it.

Runs without root: a prefix folder of its own (``-p``), a temporary configuration, its pid,
logs and temporary files inside that folder. The ``location /`` block is the README's own, read
from its nginx example, so the test and the documentation cannot drift apart.
"""

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The upstream's name in the README's example; its hosts are this test's.
UPSTREAM = "civicvote"

CONFIG = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$remote_addr "$request" $status "$upstream_addr" "$upstream_status"';
    access_log {prefix}/access.log upstreams;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream {upstream} {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 12m;
        location / {{
{location}
        }}
    }}
}}
"""


def readme_location() -> str:
    """The body of ``location / { ... }`` in the README's nginx example."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```nginx\n(.*?)```", readme, re.DOTALL)
    assert example, "the README has no nginx example"
    block = re.search(r"location / \{\n(.*?)\n\s*\}", example.group(1), re.DOTALL)
    assert block, "the README's nginx example has no location / block"
    return block.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    """nginx on a free port proxying to the servers on ``ports``; ``stop()`` ends it."""

    def __init__(self, prefix: Path, ports: list[int]):
        self.prefix = prefix
        self.port = free_port()
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in ports
        )
        self.config = prefix / "nginx.conf"
        self.config.write_text(
            CONFIG.format(
                prefix=prefix,
                upstream=UPSTREAM,
                servers=servers,
                port=self.port,
                location=readme_location(),
            )
        )
        command = [
            NGINX,
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(self.config),
        ]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{checked.stderr}")
        self.process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.prefix / 'error.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start listening")

    def access_log(self) -> list[str]:
        path = self.prefix / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
