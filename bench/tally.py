"""Tally benchmark: count 1,000,000 approval ballots over 50 proposals on PostgreSQL.

    python bench/tally.py [--ballots 1000000] [--proposals 50] [--database-url URL]

Creates a fresh database (dropped at the end unless ``--database-url`` names an existing empty
one), migrates it, makes a closed approval ballot of 50 proposals, bulk-loads the ballots with
COPY into ``cast_ballots`` (and their participations), then times
``civicvote.voting.tally.tally(ballot_id)`` (best of three, after one warm-up) and checks its
totals against the counts computed while generating. Exits 1 if they differ.
"""

import argparse
import io
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scratchdb import Database  # noqa: E402
from bench.vote_load import _app  # noqa: E402

CHUNK = 100_000


def build(url: str, instance: Path, ballots: int, proposal_count: int) -> tuple[int, dict]:
    """The closed ballot's id and the expected votes per proposal id."""
    from civicvote.ballots.models import Ballot, BallotItem
    from civicvote.communities.models import Community
    from civicvote.extensions import db
    from civicvote.proposals.models import Proposal
    from civicvote.rounds.models import FundingRound, RoundCategory
    from civicvote.timeutil import utcnow

    app = _app(url, instance)
    with app.app_context():
        community = Community(slug="tally", name="计票社区", district="")
        db.session.add(community)
        db.session.flush()
        funding_round = FundingRound(
            community_id=community.id,
            name="2026年度",
            year=2026,
            budget_fen=10**9,
            per_project_cap_fen=10**8,
        )
        funding_round.categories = [RoundCategory(code="general", name="综合", position=0)]
        db.session.add(funding_round)
        db.session.flush()
        proposals = [
            Proposal(
                round_id=funding_round.id,
                title=f"项目{i}",
                status="approved",
                total_fen=100_000,
                category_code="general",
            )
            for i in range(proposal_count)
        ]
        db.session.add_all(proposals)
        db.session.flush()
        now = utcnow()
        ballot = Ballot(
            round_id=funding_round.id,
            title="百万票",
            method="approval",
            mode="online",
            status="closed",
            min_choices=1,
            max_choices=10,
            opened_at=now,
            closed_at=now,
        )
        ballot.items = [BallotItem(proposal_id=p.id, position=i) for i, p in enumerate(proposals)]
        db.session.add(ballot)
        db.session.commit()
        ballot_id, ids = ballot.id, [p.id for p in proposals]
        db.engine.dispose()

    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(False)
    rng = random.Random(50)
    expected = dict.fromkeys(ids, 0)
    stamp = now.isoformat(sep=" ")
    with psycopg.connect(plain) as connection, connection.cursor() as cursor:
        for start in range(0, ballots, CHUNK):
            cast, part = io.StringIO(), io.StringIO()
            for n in range(start, min(ballots, start + CHUNK)):
                chosen = sorted(rng.sample(ids, rng.randint(1, 10)))
                for pid in chosen:
                    expected[pid] += 1
                cast.write(
                    f"{secrets.token_hex(16)}\t{ballot_id}\t"
                    f'{{"selections": [{", ".join(map(str, chosen))}]}}\t{n:020d}\n'
                )
                part.write(f"{ballot_id}\th{n}\tonline\t{stamp}\n")
            with cursor.copy(
                "COPY cast_ballots (id, ballot_id, contents, receipt_code) FROM STDIN"
            ) as copy:
                copy.write(cast.getvalue())
            with cursor.copy(
                "COPY participations (ballot_id, voter_key, channel, cast_at) FROM STDIN"
            ) as copy:
                copy.write(part.getvalue())
        connection.commit()
        cursor.execute("ANALYZE cast_ballots")
        cursor.execute("ANALYZE participations")
        connection.commit()
    return ballot_id, expected


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--proposals", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="an existing, empty database")
    args = parser.parse_args(argv)

    from tests.servers import civicvote, server_env

    database = Database(args.database_url, "civicvote_tally")
    url = database.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp)
            civicvote(["db", "upgrade"], server_env(instance, url))
            started = time.perf_counter()
            ballot_id, expected = build(url, instance, args.ballots, args.proposals)
            print(f"loaded {args.ballots} ballots in {time.perf_counter() - started:.1f} s")

            from civicvote.extensions import db
            from civicvote.voting.tally import tally

            app = _app(url, instance)
            with app.app_context():
                tally(ballot_id)  # warm-up: caches, connection
                times = []
                for _ in range(3):
                    db.session.expire_all()
                    started = time.perf_counter()
                    result = tally(ballot_id)
                    times.append(time.perf_counter() - started)
                db.session.remove()
                db.engine.dispose()
    finally:
        database.drop()
    correct = result.votes == expected and result.ballots_cast == args.ballots
    print(
        f"tally of {args.ballots} approval ballots over {args.proposals} proposals: "
        f"best {min(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}); "
        f"totals {'correct' if correct else 'WRONG'}"
    )
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
