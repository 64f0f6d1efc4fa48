"""nginx in front of two ``civicvote serve`` hosts; one host killed in the middle of voting.

    python bench/nginx_failover.py [--voters 2000] [--concurrency 100] [--workers 2]
                                   [--threads 4] [--kill-at 0.33]

The README's deployment (its nginx ``location`` block, CIVICVOTE_PROXY_HOPS=1, PostgreSQL and
Redis) with more voters than tests/deploy/test_nginx.py. After ``--kill-at`` of the votes are
acknowledged, the first host (gunicorn master and workers) gets kill -9. Prints the votes per
second, how many votes nginx resent to the other host, the clients' own retries, and checks
every acknowledged receipt against the database: lost and counted-twice must be 0.
"""

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scratchdb import Database  # noqa: E402
from bench.vote_load import seed, verify, vote_all  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kill-at", type=float, default=0.33)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args(argv)

    from tests.deploy.nginx import Nginx
    from tests.servers import Server, civicvote, server_env

    database = Database(None, "civicvote_failover")
    hosts, nginx = [], None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp) / "instance"
            instance.mkdir()
            env = server_env(
                instance,
                database.url,
                CIVICVOTE_RATELIMIT_STORAGE_URL=args.redis_url,
                CIVICVOTE_PROXY_HOPS="1",
            )
            civicvote(["db", "upgrade"], env)
            seeded = seed(database.url, instance, args.voters)
            hosts = [Server(env, workers=args.workers, threads=args.threads) for _ in range(2)]
            prefix = Path(tmp) / "nginx"
            prefix.mkdir()
            nginx = Nginx(prefix, [host.port for host in hosts])
            kill_at = max(1, int(args.voters * args.kill_at))
            killed = []

            async def strike(done):
                if done == kill_at and not killed:
                    os.killpg(hosts[0].process.pid, signal.SIGKILL)
                    killed.append(done)

            started = time.perf_counter()
            outcomes = asyncio.run(
                vote_all(
                    "127.0.0.1",
                    nginx.port,
                    seeded,
                    concurrency=args.concurrency,
                    on_progress=strike,
                )
            )
            elapsed = time.perf_counter() - started
            verdict = verify(database.url, seeded, outcomes)
            votes = [line for line in nginx.access_log() if "/votes " in line]
            resent = sum(1 for line in votes if ", " in line.rsplit('"', 4)[1])
            retries = sum(len(outcome.statuses) - 1 for outcome in outcomes)
            lost = len(verdict.missing_receipts) + len(verdict.acknowledged_without_participation)
            print(f"voters                 {args.voters}")
            print(f"host killed after      {killed[0] if killed else 'never'} votes")
            print(f"acknowledged           {verdict.acknowledged} in {elapsed:.1f} s")
            print(f"votes per second       {verdict.acknowledged / elapsed:.0f}")
            print(f"resent by nginx        {resent}")
            print(f"client retries         {retries}")
            print(f"stored                 {verdict.stored_ballots}")
            print(f"lost                   {lost}")
            print(f"counted twice          {len(verdict.doubled_voters)}")
            return 0 if verdict.ok and lost == 0 and killed else 1
    finally:
        if nginx is not None:
            nginx.stop()
        for host in hosts:
            host.stop()
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
