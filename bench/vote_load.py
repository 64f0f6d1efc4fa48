"""Load benchmark: N voters vote at once through the JSON API of a real gunicorn server.

    python bench/vote_load.py [--voters 2000] [--concurrency 200] [--database-url URL]

Creates a fresh PostgreSQL database (dropped at the end; ``--database-url`` uses an existing,
empty one instead and keeps it), migrates it with ``civicvote db upgrade``, builds a registry of N
households, opens a mixed approval ballot and issues N voter cards with the real card service.
It starts ``civicvote serve`` (gunicorn, Redis rate-limit storage) and has the N voters vote
concurrently through ``POST /api/v1/ballots/<id>/votes``, each with its own idempotency key;
a voter whose request fails (connection lost, 5xx) retries with the same key. It then measures
the same server on ``/healthz``, prints ballots/s, latency percentiles, errors and the ratio,
and counts what the database holds: every acknowledged receipt must be stored, no voter may be
counted twice, and ballots must equal participations. Exits 1 if any of that fails.

The pieces (``seed``, ``vote_all``, ``verify``) are reused by the fault tests in tests/faults/.
"""

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.httpclient import Connection  # noqa: E402
from bench.scratchdb import Database  # noqa: E402
from tests.servers import SECRET_KEY as SERVER_SECRET  # noqa: E402

PROPOSALS = 5


# --------------------------------------------------------------------------- seeding


CLERK_PASSWORD = "bench-clerk-password"  # a throwaway benchmark database


@dataclass
class Seeded:
    ballot_id: int
    tokens: dict[str, str]  # token -> voter key
    proposal_ids: list[int]
    slug: str = ""
    assembly_id: int | None = None
    clerk: str = ""


def _app(database_url: str, instance: Path):
    from civicvote import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": SERVER_SECRET,  # cards are keyed by it: the server's
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def seed(database_url: str, instance: Path, voters: int, *, mode: str = "mixed") -> Seeded:
    """A community of ``voters`` households, an open approval ballot, one card each.

    The registry rows are bulk-inserted (the import service's per-row checks would dominate the
    setup time); the cards come from the real ``issue_credentials`` service.
    """
    from sqlalchemy import insert

    from civicvote.accounts.models import CLERK, Membership, User
    from civicvote.ballots.models import Ballot, BallotItem
    from civicvote.checkin.models import Assembly
    from civicvote.communities.models import Community
    from civicvote.extensions import db
    from civicvote.proposals.models import Proposal
    from civicvote.registry.credentials import issue_credentials
    from civicvote.registry.models import Household, Resident
    from civicvote.rounds.models import FundingRound, FundSource, RoundCategory
    from civicvote.timeutil import utcnow

    app = _app(database_url, instance)
    with app.app_context():
        community = Community(slug=f"load-{uuid.uuid4().hex[:6]}", name="压力测试社区", district="")
        db.session.add(community)
        db.session.flush()
        funding_round = FundingRound(
            community_id=community.id,
            name="2026年度",
            year=2026,
            budget_fen=50_000_000,
            per_project_cap_fen=20_000_000,
        )
        funding_round.categories = [RoundCategory(code="general", name="综合", position=0)]
        funding_round.fund_sources = [
            FundSource(name="为民服务专项资金", kind="general", amount_fen=50_000_000)
        ]
        db.session.add(funding_round)
        db.session.flush()
        proposals = [
            Proposal(
                round_id=funding_round.id,
                title=f"项目{i + 1}",
                status="approved",
                total_fen=1_000_000 * (i + 1),
                category_code="general",
            )
            for i in range(PROPOSALS)
        ]
        db.session.add_all(proposals)
        db.session.flush()
        households = [
            {
                "community_id": community.id,
                "building": f"{1 + i // 200}栋",
                "unit": f"{1 + (i // 50) % 4}单元",
                "room": f"{1 + (i % 50) // 2}0{1 + i % 2}",
            }
            for i in range(voters)
        ]
        db.session.execute(insert(Household), households)
        household_ids = db.session.scalars(
            db.select(Household.id).where(Household.community_id == community.id)
        ).all()
        db.session.execute(
            insert(Resident),
            [
                {
                    "community_id": community.id,
                    "household_id": hid,
                    "external_ref": f"L{n:06d}",
                    "name": f"居民{n}",
                    "birth_year": 1970 + n % 30,
                    "residence_status": "registered",
                    "eligible": True,
                }
                for n, hid in enumerate(household_ids)
            ],
        )
        ballot = Ballot(
            round_id=funding_round.id,
            title="压力测试投票",
            method="approval",
            mode=mode,
            status="open",
            min_choices=1,
            max_choices=3,
            opened_at=utcnow(),
        )
        ballot.items = [BallotItem(proposal_id=p.id, position=i) for i, p in enumerate(proposals)]
        db.session.add(ballot)
        db.session.commit()
        # The assembly's desk and its clerk, for the voters who check in before voting.
        assembly = Assembly(
            ballot_id=ballot.id, title="居民议事会", place="社区服务中心", starts_at=utcnow()
        )
        clerk = User(username=f"clerk-{community.slug}")
        clerk.set_password(CLERK_PASSWORD)
        db.session.add_all([assembly, clerk])
        db.session.flush()
        db.session.add(Membership(user_id=clerk.id, community_id=community.id, role=CLERK))
        db.session.commit()
        cards = issue_credentials(ballot.id)
        db.session.commit()
        seeded = Seeded(
            ballot.id,
            {card.token: card.voter.key for card in cards},
            [p.id for p in proposals],
            community.slug,
            assembly.id,
            clerk.username,
        )
        db.session.remove()
        db.engine.dispose()
    return seeded


# --------------------------------------------------------------------------- voting


class OneShotConnection(Connection):
    """A keep-alive connection that reports a lost request instead of resending it.

    The voters decide themselves when to retry (always with the same idempotency key), so that
    each lost request shows in the outcome.
    """

    async def request(self, method, path, *, body=b"", headers=None, timeout=30):
        try:
            if self.writer is None:
                await self._connect()
            return await asyncio.wait_for(
                self._exchange(method, path, body, headers or {}), timeout
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            await self.close()
            raise


@dataclass
class Outcome:
    token: str
    key: str
    receipt: str | None = None
    statuses: list = field(default_factory=list)  # every attempt's status (or "conn")
    latencies: list = field(default_factory=list)  # seconds, of attempts that got an answer
    failures: list = field(default_factory=list)  # (status, content type, body) of non-2xx
    checkin: int | None = None  # the desk's answer, for voters who checked in first


def vote_body(seeded: Seeded, token: str, key: str, rng: random.Random) -> bytes:
    chosen = rng.sample(seeded.proposal_ids, rng.randint(1, 3))
    return json.dumps({"credential": token, "selections": chosen, "idempotency_key": key}).encode()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


async def desk_session(host: str, port: int, seeded: Seeded) -> dict:
    """Log the clerk in through the real form; the cookie and CSRF token of the desk page."""
    connection = Connection(host, port)
    try:
        page = await connection.request("GET", "/login")
        cookie = page.headers["set-cookie"].split(";")[0]
        token = CSRF.search(page.body.decode()).group(1)
        form = urlencode(
            {"csrf_token": token, "username": seeded.clerk, "password": CLERK_PASSWORD}
        ).encode()
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        answer = await connection.request("POST", "/login", body=form, headers=headers)
        assert answer.status == 302, answer.status
        cookie = answer.headers["set-cookie"].split(";")[0]
        desk = f"/console/c/{seeded.slug}/assemblies/{seeded.assembly_id}"
        page = await connection.request("GET", desk, headers={"Cookie": cookie})
        assert page.status == 200, page.status
        token = CSRF.search(page.body.decode()).group(1)
        return {"cookie": cookie, "csrf": token, "path": desk + "/check-in"}
    finally:
        await connection.close()


async def _check_in(connection, outcome, desk: dict, headers: dict, retries: int) -> None:
    """At the desk: the clerk scans the voter's card (retried like a vote)."""
    form = urlencode({"csrf_token": desk["csrf"], "code": outcome.token}).encode()
    for attempt in range(retries):
        try:
            response = await connection.request(
                "POST", desk["path"], body=form, headers=headers, timeout=20
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            await connection.close()
            await asyncio.sleep(min(0.1 * 2**attempt, 1.0))
            continue
        outcome.checkin = response.status
        if response.status < 500:  # checked in (200, 201), or a definite refusal
            return
        await asyncio.sleep(0.1 * (attempt + 1))


async def vote_all(
    host: str,
    port: int,
    seeded: Seeded,
    *,
    concurrency: int = 200,
    retries: int = 40,
    on_progress=None,
    checkin_share: float = 0.0,
    desk: dict | None = None,
) -> list[Outcome]:
    """Every voter votes once (retrying with the same key after failures); returns outcomes.

    ``on_progress(done)`` is awaited after each acknowledged vote (the fault tests use it to
    strike in the middle of the load).
    """
    rng = random.Random(8)
    path = f"/api/v1/ballots/{seeded.ballot_id}/votes"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    queue: asyncio.Queue = asyncio.Queue()
    outcomes = []
    for token in seeded.tokens:
        outcome = Outcome(token, secrets.token_hex(8))
        outcomes.append(outcome)
        queue.put_nowait((outcome, vote_body(seeded, token, outcome.key, rng)))
    done = 0
    checkin_every = round(1 / checkin_share) if checkin_share else 0
    present = {o.token for i, o in enumerate(outcomes) if checkin_every and i % checkin_every == 0}
    checkin_headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    if desk:
        checkin_headers["Cookie"] = desk["cookie"]

    async def voter_loop():
        nonlocal done
        connection = OneShotConnection(host, port)
        try:
            while not queue.empty():
                outcome, body = queue.get_nowait()
                if outcome.token in present:
                    await _check_in(connection, outcome, desk, checkin_headers, retries)
                for attempt in range(retries):
                    started = time.perf_counter()
                    try:
                        response = await connection.request(
                            "POST", path, body=body, headers=headers, timeout=20
                        )
                    except (TimeoutError, OSError, asyncio.IncompleteReadError):
                        outcome.statuses.append("conn")
                        await connection.close()
                        await asyncio.sleep(min(0.1 * 2**attempt, 1.0))
                        continue
                    outcome.latencies.append(time.perf_counter() - started)
                    outcome.statuses.append(response.status)
                    if response.status not in (200, 201):
                        outcome.failures.append(
                            (
                                response.status,
                                response.headers.get("content-type", ""),
                                response.headers.get("retry-after"),
                                response.body[:500],
                            )
                        )
                    if response.status in (200, 201):
                        outcome.receipt = response.json()["receipt"]
                        done += 1
                        if on_progress is not None:
                            await on_progress(done)
                        break
                    if response.status < 500 and response.status != 429:
                        break  # a definite refusal: retrying would not change it
                    retry_after = float(response.headers.get("retry-after", "0") or 0)
                    await asyncio.sleep(max(min(retry_after, 2.0), 0.1 * (attempt + 1)))
        finally:
            await connection.close()

    await asyncio.gather(*(voter_loop() for _ in range(concurrency)))
    return outcomes


async def trivial_load(host: str, port: int, requests: int, concurrency: int) -> float:
    """Requests per second of ``GET /healthz`` at the same concurrency."""
    remaining = requests

    async def loop():
        nonlocal remaining
        connection = Connection(host, port)
        try:
            while remaining > 0:
                remaining -= 1
                response = await connection.request("GET", "/healthz", timeout=20)
                assert response.status == 200, response.status
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


# --------------------------------------------------------------------------- checking


@dataclass
class Verdict:
    acknowledged: int
    stored_ballots: int
    participations: int
    missing_receipts: list
    doubled_voters: list
    acknowledged_without_participation: list
    channels: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.missing_receipts
            and not self.doubled_voters
            and not self.acknowledged_without_participation
            and self.stored_ballots == self.participations
        )


def verify(
    database_url: str, seeded: Seeded, outcomes: list[Outcome], secret_key: str = SERVER_SECRET
) -> Verdict:
    """Compare the acknowledged receipts with what the database holds: cast ballots, and while
    the ballot is open its sealed entries, found by the receipts' keyed hashes (``secret_key``
    is the server's)."""
    from sqlalchemy import create_engine, text

    from civicvote.voting.sealing import receipt_tag

    engine = create_engine(database_url)
    with engine.connect() as connection:
        b = {"b": seeded.ballot_id}
        receipts = set(
            connection.scalars(
                text("SELECT receipt_code FROM cast_ballots WHERE ballot_id = :b"), b
            ).all()
        )
        tags = set(
            connection.scalars(
                text("SELECT receipt_tag FROM ballot_box WHERE ballot_id = :b"), b
            ).all()
        )
        stored = len(receipts) + len(tags)
        receipts |= {
            o.receipt
            for o in outcomes
            if o.receipt and receipt_tag(o.receipt, secret_key.encode()) in tags
        }
        channels = dict(
            connection.execute(
                text(
                    "SELECT channel, COUNT(*) FROM participations WHERE ballot_id = :b GROUP BY 1"
                ),
                b,
            ).all()
        )
        participants = connection.execute(
            text("SELECT voter_key, COUNT(*) FROM participations WHERE ballot_id = :b GROUP BY 1"),
            b,
        ).all()
    engine.dispose()
    counted = dict(participants)
    acknowledged = [o for o in outcomes if o.receipt]
    return Verdict(
        acknowledged=len(acknowledged),
        stored_ballots=stored,
        participations=sum(counted.values()),
        missing_receipts=[o.receipt for o in acknowledged if o.receipt not in receipts],
        doubled_voters=[key for key, count in counted.items() if count > 1],
        acknowledged_without_participation=[
            o.receipt for o in acknowledged if seeded.tokens[o.token] not in counted
        ],
        channels=channels,
    )


def close_ballot(database_url: str, instance: Path, ballot_id: int) -> float:
    """Close the ballot as the console does (with the server's key) and return the seconds it
    took, its scrub of the tables included (docs/secrecy.md)."""
    from civicvote import create_app
    from civicvote.ballots.lifecycle import change_status
    from civicvote.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": SERVER_SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        started = time.perf_counter()
        change_status(ballot_id, "close", actor=None)
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return seconds


# --------------------------------------------------------------------------- the benchmark


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server (master and workers), PostgreSQL and this process."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {"server": 0.0, "postgres": 0.0, "client": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, used = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        pid = int(entry.name)
        if pid == server_pid or ppid == server_pid:
            totals["server"] += used
        elif name.startswith("postgres"):
            totals["postgres"] += used
        elif pid == os.getpid():
            totals["client"] += used
    return totals


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="an existing, empty database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--checkin-share",
        type=float,
        default=0.25,
        help="share of voters checked in at the assembly desk (clerk session) before voting",
    )
    args = parser.parse_args(argv)

    from tests.servers import Server, civicvote, server_env

    database = Database(args.database_url)
    url = database.url
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp)
            env = server_env(instance, url, CIVICVOTE_RATELIMIT_STORAGE_URL=args.redis_url)
            civicvote(["db", "upgrade"], env)
            started = time.perf_counter()
            seeded = seed(url, instance, args.voters)
            print(
                f"seeded {len(seeded.tokens)} voters and cards in "
                f"{time.perf_counter() - started:.1f} s (ballot {seeded.ballot_id})"
            )
            server = Server(
                env, workers=args.workers, threads=args.threads, log_path=instance / "server.log"
            )
            # Warm up every worker (imports, connection pool) before measuring.
            asyncio.run(trivial_load("127.0.0.1", server.port, 200, 20))
            desk = asyncio.run(desk_session("127.0.0.1", server.port, seeded))
            cpu_before = cpu_seconds(server.process.pid)
            started = time.perf_counter()
            outcomes = asyncio.run(
                vote_all(
                    "127.0.0.1",
                    server.port,
                    seeded,
                    concurrency=args.concurrency,
                    checkin_share=args.checkin_share,
                    desk=desk,
                )
            )
            elapsed = time.perf_counter() - started
            cpu_after = cpu_seconds(server.process.pid)
            trivial = asyncio.run(
                trivial_load("127.0.0.1", server.port, max(args.voters, 2000), args.concurrency)
            )
            server.stop()
            server = None
            verdict = verify(url, seeded, outcomes)
            closing = close_ballot(url, instance, seeded.ballot_id)
    finally:
        if server is not None:
            server.stop()
        database.drop()

    latencies = [s for o in outcomes for s in o.latencies]
    errors = sum(1 for o in outcomes for s in o.statuses if s not in (200, 201))
    rate = verdict.acknowledged / elapsed
    print(
        f"voters {args.voters}, concurrency {args.concurrency}, "
        f"gunicorn {args.workers} workers x {args.threads} threads"
    )
    print(f"votes acknowledged {verdict.acknowledged} in {elapsed:.2f} s: {rate:.0f} ballots/s")
    print(
        "latency ms p50 {:.0f}  p95 {:.0f}  p99 {:.0f}  max {:.0f}".format(
            *(1000 * percentile(latencies, p) for p in (50, 95, 99, 100))
        )
    )
    print(f"errors (non-2xx answers or lost connections, then retried) {errors}")
    used = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
    print(
        "CPU ms per vote: "
        + ", ".join(f"{k} {1000 * v / max(verdict.acknowledged, 1):.1f}" for k, v in used.items())
        + " (postgres: all clusters on the machine)"
    )
    print(f"trivial endpoint /healthz: {trivial:.0f} requests/s")
    print(f"close (open the sealed box, shuffle, write, VACUUM FULL): {closing:.2f} s")
    print(f"ratio vote/trivial {rate / trivial:.2f}")
    print(
        f"database: {verdict.stored_ballots} ballots, {verdict.participations} participations; "
        f"missing acknowledged {len(verdict.missing_receipts)}, "
        f"voters counted twice {len(verdict.doubled_voters)}"
    )
    checked = [o.checkin for o in outcomes if o.checkin is not None]
    print(
        f"checked in at the desk first: {sum(1 for c in checked if c in (200, 201))} of "
        f"{len(checked)}; ballots by channel {verdict.channels}"
    )
    if verdict.acknowledged != args.voters:
        print(f"NOTE: {args.voters - verdict.acknowledged} voters got no receipt")
    present = sum(1 for o in outcomes if o.checkin in (200, 201) and o.receipt)
    if verdict.channels.get("assembly", 0) != present:
        print("FAIL: assembly ballots differ from the voters checked in at the desk")
        return 1
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
