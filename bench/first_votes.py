"""The first votes a freshly started server answers: what each worker's warm-up saves.

    python bench/first_votes.py [--votes 32] [--workers 2] [--threads 8] [--rounds 3]

Seeds a fresh PostgreSQL database like ``bench/vote_load.py``, then ``--rounds`` times starts
``civicvote serve`` and, a second after it answers /healthz (every worker has booted by then),
sends ``--votes`` votes at once (every thread of every worker busy with its first vote), and
prints their latency (p50 and max) and the
server's CPU for them. Without the warm-up (gunicorn_conf.post_worker_init), each of these first
votes waits for its pooled connection to open, PostgreSQL to load the tables' definitions and
the statements to be compiled; with it, that was done before the server answered.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scratchdb import Database  # noqa: E402
from bench.vote_load import Seeded, cpu_seconds, percentile, seed, vote_all  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)

    from tests.servers import Server, civicvote, server_env

    database = Database(None, "civicvote_first_votes")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp)
            env = server_env(instance, database.url, CIVICVOTE_RATELIMIT_STORAGE_URL=args.redis_url)
            civicvote(["db", "upgrade"], env)
            seeded = seed(database.url, instance, args.votes * args.rounds)
            tokens = list(seeded.tokens.items())
            for round_number in range(args.rounds):
                batch = dict(tokens[round_number * args.votes : (round_number + 1) * args.votes])
                voters = Seeded(seeded.ballot_id, batch, seeded.proposal_ids)
                server = Server(env, workers=args.workers, threads=args.threads)
                try:
                    time.sleep(1)
                    cpu_before = cpu_seconds(server.process.pid)["server"]
                    started = time.perf_counter()
                    outcomes = asyncio.run(
                        vote_all("127.0.0.1", server.port, voters, concurrency=args.votes)
                    )
                    elapsed = time.perf_counter() - started
                    cpu = cpu_seconds(server.process.pid)["server"] - cpu_before
                finally:
                    server.stop()
                latencies = [1000 * s for o in outcomes for s in o.latencies]
                failed = sum(1 for o in outcomes for s in o.statuses if s not in (200, 201))
                print(
                    f"round {round_number + 1}: {len(outcomes)} first votes in {elapsed:.2f} s; "
                    f"latency ms p50 {percentile(latencies, 50):.0f} "
                    f"max {percentile(latencies, 100):.0f}; server CPU {1000 * cpu:.0f} ms; "
                    f"non-2xx {failed}"
                )
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
