"""Per-vote server cost in one process: SQL statements, CPU time and a cProfile of the vote path.

    python bench/vote_profile.py [--voters 1000] [--database-url URL] [--profile 25] [--check-in]

Seeds a fresh PostgreSQL database like ``bench/vote_load.py`` (``--sqlite`` uses a temporary
SQLite file instead), then casts every voter's vote through ``POST /api/v1/ballots/<id>/votes``
with Flask's test client (no HTTP server, so the figures are the application's own cost), and
does as many ``GET /healthz`` for comparison. Prints statements per vote (by kind), CPU ms per
request of each, and the top functions of a cProfile run (CPU time) over the votes.
``--check-in`` measures the assembly desk instead: the clerk logs in and scans every voter's card
(``POST /console/c/<slug>/assemblies/<id>/check-in`` asking for JSON, as the desk page does).
"""

import argparse
import cProfile
import json
import os
import pstats
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scratchdb import Database  # noqa: E402
from bench.vote_load import CLERK_PASSWORD, CSRF, SERVER_SECRET, seed, vote_body  # noqa: E402


def _backend_seconds(pids) -> float:
    """CPU seconds used so far by these (local) PostgreSQL server processes."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _created(response) -> None:
    assert response.status_code == 201, (response.status_code, response.data)


def _votes(client, seeded):
    """Each voter's vote through the JSON API."""
    path = f"/api/v1/ballots/{seeded.ballot_id}/votes"
    return lambda body: client.post(path, data=body, content_type="application/json")


def _desk(client, seeded):
    """The clerk, logged in through the real form, scans each card at the desk."""
    page = client.get("/login")
    form = {"csrf_token": CSRF.search(page.text).group(1), "username": seeded.clerk}
    answer = client.post("/login", data={**form, "password": CLERK_PASSWORD})
    assert answer.status_code == 302, answer.status_code
    desk = f"/console/c/{seeded.slug}/assemblies/{seeded.assembly_id}"
    token = CSRF.search(client.get(desk).text).group(1)
    path = desk + "/check-in"
    return lambda card: client.post(
        path, data={"csrf_token": token, "code": card}, headers={"Accept": "application/json"}
    )


def _count_statements(engine, statements: Counter) -> set[int]:
    """Count the engine's statements and commits into ``statements``; returns the set that will
    hold the PostgreSQL server processes of its connections (filled as they connect)."""
    from sqlalchemy import event

    def count(statement) -> None:
        statements[str(statement).split(None, 1)[0].upper()] += 1

    if engine.dialect.name == "postgresql":
        # At the driver: casting runs its statements on the psycopg cursor directly.
        import psycopg

        driver_execute = psycopg.Cursor.execute

        def counting_execute(cursor, query, *args, **kwargs):
            count(query.as_string(cursor) if hasattr(query, "as_string") else query)
            return driver_execute(cursor, query, *args, **kwargs)

        psycopg.Cursor.execute = counting_execute
    else:

        @event.listens_for(engine, "before_cursor_execute")
        def count_sqlite(conn, cursor, statement, parameters, context, executemany):
            count(statement)

    @event.listens_for(engine, "commit")
    def count_commit(conn):
        statements["(commit)"] += 1

    backends: set[int] = set()

    @event.listens_for(engine, "connect")
    def remember_backend(dbapi_connection, _record):
        if engine.dialect.name == "postgresql":
            backends.add(dbapi_connection.info.backend_pid)

    return backends


def _requests(client, seeded, *, check_in: bool):
    """The request to send and its bodies: every voter's vote, or every card scanned."""
    if check_in:
        return _desk(client, seeded), list(seeded.tokens)
    rng = random.Random(8)
    bodies = [vote_body(seeded, token, secrets.token_hex(8), rng) for token in seeded.tokens]
    return _votes(client, seeded), bodies


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="an existing, empty database")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--profile", type=int, default=25, help="rows of the profile to print (0: no profile)"
    )
    parser.add_argument(
        "--check-in", action="store_true", help="scan the cards at the desk instead of voting"
    )
    args = parser.parse_args(argv)

    from sqlalchemy.engine import make_url

    from civicvote import create_app
    from civicvote.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        database = None
        if args.sqlite:
            url = f"sqlite:///{instance / 'civicvote.db'}"
        else:
            database = Database(args.database_url, "civicvote_profile")
            url = database.url
        try:
            from flask_migrate import upgrade

            config = {
                "SQLALCHEMY_DATABASE_URI": url,
                "INSTANCE_PATH": str(instance),
                "SECRET_KEY": SERVER_SECRET,  # the seed's: cards are keyed by it
                "RATELIMIT_STORAGE_URI": args.redis_url,
            }
            app = create_app(config)
            with app.app_context():
                upgrade()
                db.engine.dispose()
            seeded = seed(url, instance, args.voters)
            app = create_app(config)
            client = app.test_client()
            statements: Counter = Counter()

            with app.app_context():
                engine = db.engine
            backends = _count_statements(engine, statements)
            engine.dispose()  # connect again, so that every backend is remembered
            send, bodies = _requests(client, seeded, check_in=args.check_in)
            for _ in range(50):  # warm up (imports, pool) with health checks only
                client.get("/healthz")
            statements.clear()
            # The first half measures CPU time, the second half runs under the profiler
            # (all of them measure CPU time with --profile 0).
            half = len(bodies) // 2 if args.profile else len(bodies)
            cpu, server_cpu = time.process_time(), _backend_seconds(backends)
            for body in bodies[:half]:
                _created(send(body))
            request_cpu = (time.process_time() - cpu) / half
            server_cpu = (_backend_seconds(backends) - server_cpu) / half
            per_request = {kind: n / half for kind, n in statements.items()}
            profiler = cProfile.Profile(time.process_time)  # CPU time, not waiting
            profiler.enable()
            for body in bodies[half:]:
                _created(send(body))
            profiler.disable()
            # Once more for the first (a retried vote, a card scanned again): 200, not a 201.
            again = send(bodies[0])
            assert again.status_code == 200, again.status_code
            assert json.loads(again.data)["already" if args.check_in else "receipt"]
            cpu = time.process_time()
            for _ in bodies:
                client.get("/healthz")
            health_cpu = (time.process_time() - cpu) / len(bodies)
        finally:
            if database is not None:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
                database.drop()

    what = "check-in" if args.check_in else "vote"
    print(
        f"{half} {what}s (then {len(bodies) - half} profiled) on {make_url(url).get_backend_name()}"
    )
    sent = sum(v for k, v in per_request.items() if k != "(commit)")
    print(
        f"SQL per {what}: {sent:.2f} statements "
        + "("
        + ", ".join(f"{kind} {n:.2f}" for kind, n in sorted(per_request.items()))
        + ")"
    )
    print(
        f"CPU ms per request (test client): {what} {1000 * request_cpu:.2f}, /healthz "
        f"{1000 * health_cpu:.2f}"
    )
    if backends:
        print(f"PostgreSQL CPU ms per {what} (this app's connections): {1000 * server_cpu:.2f}")
    if args.profile:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
