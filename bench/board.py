"""Benchmark of the public board: many open boards polling while votes arrive.

    python bench/board.py [--boards 1000] [--rate 100] [--seconds 30] [--workers 3] [--threads 4]

Starts ``civicvote serve`` (gunicorn) on a fresh PostgreSQL database (created here and dropped
at the end; ``--database-url`` uses an existing, already migrated one instead), loads the demo
district, adds households to its registry so that there are enough voters, opens the ballot and
issues one voter card per vote. Then ``--boards`` simulated screens poll
``/c/<slug>/board/live`` once a second with If-None-Match while votes are cast through
``POST /api/v1/ballots/<id>/votes`` at ``--rate`` per second for ``--seconds``.

Update lag: for each acknowledged vote (its 201) and each board, the time from the
acknowledgement until that board first read a ``stats.cast`` at least as large as the number of
votes acknowledged so far. Prints p50/p95/max lag, the server's CPU (user+system time of the
gunicorn processes over the run, divided by wall time; 1.0 = one core busy) and requests per
second. Exits 1 if any request failed or a vote was not counted, 2 if p95 lag is 2 s or more.
"""

import argparse
import asyncio
import bisect
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.httpclient import Connection  # noqa: E402
from bench.scratchdb import Database  # noqa: E402

TARGET_P95 = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def civicvote(args: list[str], env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "civicvote", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        sys.exit(f"civicvote {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# ------------------------------------------------------------------------------- setup


ADD_VOTERS = """
import sys
from civicvote import create_app
from civicvote.communities.models import Community
from civicvote.extensions import db
from civicvote.registry.services import import_registry

slug, count = sys.argv[1], int(sys.argv[2])
app = create_app()
with app.app_context():
    community = db.session.scalar(db.select(Community).filter_by(slug=slug))
    lines = ["external_ref,name,building,room,birth_year,residence_status,eligible"]
    for i in range(count):
        building, room = f"压测{i // 500 + 1}栋", f"{i % 500 + 1:03d}"
        lines.append(f"BENCH{i:06d},居民{i},{building},{room},1970,registered,yes")
    result = import_registry(community, "\\n".join(lines) + "\\n")
    assert not result.errors, result.errors[:3]
    db.session.commit()
    print(result.created)
"""


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:  # our own server
        return json.load(response)


def setup(env: dict, votes_needed: int) -> dict:
    """Demo district, extra voters, an open ballot and one card per vote. Returns the plan."""
    civicvote(["seed-demo"], env)
    # The first round's community and ballot, as the open data API would tell a client.
    app_env = dict(env)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from civicvote import create_app\n"
            "from civicvote.rounds.models import FundingRound\n"
            "from civicvote.voting.tally import eligible_count\n"
            "from civicvote.extensions import db\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    query = db.select(FundingRound).order_by(FundingRound.id)\n"
            "    r = db.session.scalars(query).first()\n"
            "    b = r.ballots[0]\n"
            "    print(r.community.slug, b.id, eligible_count(b),"
            " ','.join(str(i.proposal_id) for i in b.items), b.max_choices or 3)\n",
        ],
        env=app_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    slug, ballot_id, eligible, proposals, max_choices = probe.stdout.split()
    eligible = int(eligible)
    # The demo already printed cards for some voters: leave room for them.
    if eligible < votes_needed + 500:
        subprocess.run(
            [sys.executable, "-c", ADD_VOTERS, slug, str(votes_needed + 500 - eligible)],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
    civicvote(["ballots", "open", ballot_id], env)
    cards = Path(env["CIVICVOTE_INSTANCE_PATH"]) / "bench-cards.csv"
    civicvote(
        ["credentials", "issue", "--ballot", ballot_id, "--count", str(votes_needed)]
        + ["--out", str(cards)],
        env,
    )
    with cards.open(encoding="utf-8") as handle:
        tokens = [row["token"] for row in csv.DictReader(handle)]
    if len(tokens) < votes_needed:
        sys.exit(f"only {len(tokens)} cards could be issued, {votes_needed} needed")
    return {
        "slug": slug,
        "ballot_id": int(ballot_id),
        "proposals": [int(p) for p in proposals.split(",")],
        "max_choices": int(max_choices),
        "tokens": tokens,
    }


class ServerProcess:
    def __init__(self, env: dict, port: int, workers: int, threads: int):
        self.port = port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "civicvote",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit("server did not start within 60 s")

    def cpu_seconds(self) -> float:
        """User + system CPU of gunicorn's master and workers (from /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        pids = {self.process.pid}
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
        todo = [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in pids:
                    pids.add(child)
                    todo.append(child)
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ------------------------------------------------------------------------------- load


class Stats:
    def __init__(self):
        self.requests = 0
        self.errors: list[str] = []
        self.polls_200 = 0
        self.polls_304 = 0
        self.vote_latency: list[float] = []


async def board_client(port, path, control: dict, stats, seen: list, start_delay: float):
    """One open board: poll once a second; record (time, cast) each time cast grows."""
    connection = Connection("127.0.0.1", port)
    await asyncio.sleep(start_delay)
    etag = None
    best = -1
    read_at = 0
    next_poll = time.monotonic()
    while time.monotonic() < control["stop_at"]:
        headers = {"If-None-Match": etag} if etag else {}
        try:
            response = await connection.request("GET", path, headers=headers, timeout=20)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            stats.errors.append(f"poll: {type(error).__name__}")
            response = None
        now = time.monotonic()
        stats.requests += 1
        if response is not None:
            if response.status == 200:
                stats.polls_200 += 1
                body = response.json()
                # Keep only the newest reading, as the page does (workers read at different times).
                if body.get("read_at", 0) >= read_at:
                    read_at = body.get("read_at", 0)
                    etag = response.headers.get("etag") or None
                    cast = body["stats"]["cast"]
                    if cast > best:
                        best = cast
                        seen.append((now, cast))
            elif response.status == 304:
                stats.polls_304 += 1
            else:
                stats.errors.append(f"poll: HTTP {response.status}")
        next_poll += 1.0
        await asyncio.sleep(max(0.0, next_poll - time.monotonic()))
    await connection.close()


async def voter(port, ballot_id, token, choices, pool: asyncio.Queue, stats, acks: list):
    body = json.dumps(
        {"credential": token, "selections": choices, "idempotency_key": uuid.uuid4().hex}
    ).encode()
    connection = await pool.get()
    sent = time.monotonic()
    try:
        response = await connection.request(
            "POST",
            f"/api/v1/ballots/{ballot_id}/votes",
            body=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        stats.requests += 1
        if response.status == 201:
            acks.append(time.monotonic())
            stats.vote_latency.append(acks[-1] - sent)
        else:
            stats.errors.append(f"vote: HTTP {response.status} {response.body[:200]!r}")
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
        stats.errors.append(f"vote: {type(error).__name__}")
    finally:
        pool.put_nowait(connection)


async def run_load(args, plan: dict, port: int, server: ServerProcess) -> dict:
    stats = Stats()
    path = f"/c/{plan['slug']}/board/live"
    base_cast = get_json(f"http://127.0.0.1:{port}/api/v1/ballots/{plan['ballot_id']}")["turnout"][
        "cast"
    ]
    warmup, grace = 3.0, 4.0
    start = time.monotonic()
    votes_start = start + warmup
    control = {"stop_at": float("inf")}  # set once the last vote was acknowledged
    seen_by_board = [[] for _ in range(args.boards)]
    boards = [
        asyncio.create_task(
            board_client(port, path, control, stats, seen_by_board[i], random.random())
        )
        for i in range(args.boards)
    ]
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(args.vote_connections):
        pool.put_nowait(Connection("127.0.0.1", port))
    await asyncio.sleep(max(0.0, votes_start - time.monotonic()))
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    requests_before = stats.requests
    client_cpu_before = sum(os.times()[:2])
    acks: list[float] = []
    voters = []
    rng = random.Random(6)
    total_votes = int(args.rate * args.seconds)
    for i in range(total_votes):
        at = votes_start + i / args.rate
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        choices = rng.sample(plan["proposals"], rng.randint(1, plan["max_choices"]))
        voters.append(
            asyncio.create_task(
                voter(port, plan["ballot_id"], plan["tokens"][i], choices, pool, stats, acks)
            )
        )
    await asyncio.gather(*voters)
    votes_end = time.monotonic()
    control["stop_at"] = votes_end + grace
    cpu_after, wall_after = server.cpu_seconds(), time.monotonic()
    requests_after = stats.requests
    client_cpu = sum(os.times()[:2]) - client_cpu_before
    await asyncio.gather(*boards)
    while not pool.empty():
        await pool.get_nowait().close()
    final_cast = get_json(f"http://127.0.0.1:{port}/api/v1/ballots/{plan['ballot_id']}")["turnout"][
        "cast"
    ]
    return {
        "stats": stats,
        "acks": acks,
        "seen": seen_by_board,
        "base_cast": base_cast,
        "final_cast": final_cast,
        "total_votes": total_votes,
        "wall": wall_after - wall_before,
        "cpu": cpu_after - cpu_before,
        "client_cpu": client_cpu,
        "requests": requests_after - requests_before,
        "vote_window": (votes_start, votes_end),
    }


def lags(acks: list[float], base_cast: int, seen_by_board: list[list]) -> tuple[list, int]:
    """Lag of every (acknowledged vote, board) pair; and how many pairs were never seen."""
    acks = sorted(acks)
    out, missed = [], 0
    for seen in seen_by_board:
        times = [t for t, _ in seen]
        casts = [c for _, c in seen]
        for k, ack in enumerate(acks, start=1):
            index = bisect.bisect_left(casts, base_cast + k)
            if index == len(casts):
                missed += 1
                continue
            out.append(max(0.0, times[index] - ack))
    out.sort()
    return out, missed


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100, help="votes per second")
    parser.add_argument("--seconds", type=float, default=30, help="how long votes arrive")
    parser.add_argument("--workers", type=int, default=3)
    # At most the database pool's 5 connections per worker: more threads than that make
    # SQLAlchemy open and close overflow connections all the time, which costs PostgreSQL a fork.
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--vote-connections", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="use this (migrated) database")
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()

    database = Database(args.database_url)
    instance = Path(tempfile.mkdtemp(prefix="civicvote-bench-"))
    env = {
        **os.environ,
        "CIVICVOTE_DATABASE_URL": database.url,
        "CIVICVOTE_INSTANCE_PATH": str(instance),
        "CIVICVOTE_RATELIMIT_STORAGE_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "CIVICVOTE_SECRET_KEY": uuid.uuid4().hex,
        "CIVICVOTE_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "PYTHONPATH": str(REPO),
    }
    server = None
    try:
        votes_needed = int(args.rate * args.seconds)
        print(f"setting up: demo district, {votes_needed} voter cards ...", flush=True)
        plan = setup(env, votes_needed)
        port = free_port()
        server = ServerProcess(env, port, args.workers, args.threads)
        print(
            f"running: {args.boards} boards polling /c/{plan['slug']}/board/live every 1 s, "
            f"{args.rate:g} votes/s for {args.seconds:g} s, gunicorn {args.workers} workers x "
            f"{args.threads} threads, PostgreSQL",
            flush=True,
        )
        result = asyncio.run(run_load(args, plan, port, server))
    finally:
        if server is not None:
            server.stop()
        database.drop()
        shutil.rmtree(instance, ignore_errors=True)

    stats = result["stats"]
    values, missed = lags(result["acks"], result["base_cast"], result["seen"])
    p50, p95, worst = percentile(values, 50), percentile(values, 95), (values[-1] if values else 0)
    counted = result["final_cast"] - result["base_cast"]
    print(
        f"votes acknowledged (201): {len(result['acks'])} of {result['total_votes']}; "
        f"counted: {counted}"
    )
    print(
        f"vote rate achieved: {len(result['acks']) / result['wall']:.1f}/s; "
        f"board polls: {stats.polls_200} full (200), {stats.polls_304} not modified (304)"
    )
    latency = sorted(stats.vote_latency)
    print(
        f"vote latency (request to 201): p50 {percentile(latency, 50):.3f} s, "
        f"p95 {percentile(latency, 95):.3f} s"
    )
    print(
        f"update lag over {len(values)} (vote, board) pairs: p50 {p50:.3f} s, p95 {p95:.3f} s, "
        f"max {worst:.3f} s; never seen: {missed}"
    )
    print(
        f"server CPU: {result['cpu']:.1f} s over {result['wall']:.1f} s = "
        f"{result['cpu'] / result['wall']:.2f} cores; bench client CPU "
        f"{result['client_cpu'] / result['wall']:.2f} cores"
    )
    print(f"requests per second: {result['requests'] / result['wall']:.0f}")
    if stats.errors:
        print(f"ERRORS: {len(stats.errors)}, first: {stats.errors[:5]}")
    failed = bool(stats.errors) or missed or counted != len(result["acks"])
    if failed:
        return 1
    if not p95 < TARGET_P95:
        print(f"p95 lag {p95:.3f} s misses the target of {TARGET_P95} s")
        return 2
    print(f"p95 lag under the {TARGET_P95} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
