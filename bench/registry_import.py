"""Registry import benchmark: what keeping each resident's before/after in the audit log costs.

    python bench/registry_import.py [--residents 20000] [--changed 2000] [--database-url URL]

Migrates a fresh database (SQLite in a temporary folder by default; ``--database-url`` for
another, e.g. PostgreSQL), imports a registry CSV of ``--residents`` residents, then re-imports
it with ``--changed`` of them changed (a third each: moved out, renamed, rehoused), and prints
for both imports the time of ``import_registry`` plus commit (wall clock, and this process's
CPU time, which other work on a shared machine disturbs less; SQLite runs in-process), the size
of the audit entry it wrote, and the time of ``verify_chain`` over the log.

The script puts this repository last on ``sys.path``, so ``PYTHONPATH=/path/to/other/tree``
times another version of civicvote on the same data (it prints which one ran).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))


def registry_csv(residents: int, changed: int = 0) -> str:
    """Residents R00001..: two per room; the first ``changed`` altered, a third each way."""
    lines = ["external_ref,name,building,unit,room,birth_year,residence_status"]
    for n in range(residents):
        name, building, status = f"居民{n}", f"{n // 200 + 1}栋", "registered"
        room = f"{(n // 2) % 100 + 101}"
        if n < changed:
            if n % 3 == 0:
                status = "moved_out"
            elif n % 3 == 1:
                name += "改"
            else:
                room = str(int(room) + 400)
        lines.append(f"R{n:05d},{name},{building},1单元,{room},{1940 + n % 60},{status}")
    return "\n".join(lines) + "\n"


def run(url: str, instance: Path, residents: int, changed: int, repeats: int) -> None:
    import civicvote
    from civicvote import create_app
    from civicvote.audit.models import AuditEvent
    from civicvote.audit.services import verify_chain
    from civicvote.communities.models import Community
    from civicvote.extensions import db
    from civicvote.registry.services import import_registry

    print(f"civicvote from {Path(civicvote.__file__).parent}")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        first, second = registry_csv(residents), registry_csv(residents, changed)
        for label, text in (("first import", first), (f"{changed} changed", second)):
            times, cpu = [], []
            for attempt in range(repeats):
                community = Community(slug=f"bench-{label[:5]}-{attempt}", name="名册", district="")
                db.session.add(community)
                db.session.commit()
                if label != "first import":
                    import_registry(community, first)  # the registry being changed
                    db.session.commit()
                started, started_cpu = time.perf_counter(), time.process_time()
                result = import_registry(community, text)
                db.session.commit()
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            event = db.session.scalar(db.select(AuditEvent).order_by(AuditEvent.id.desc()))
            size = len(json.dumps(event.before)) + len(json.dumps(event.after))
            print(
                f"{label:>14}: {statistics.median(times):6.2f} s wall, "
                f"{statistics.median(cpu):6.2f} s CPU (medians of {repeats}; created "
                f"{result.created}, updated {result.updated}); audit entry {size:,} bytes"
            )
        started = time.perf_counter()
        report = verify_chain()
        print(
            f"verify_chain: {time.perf_counter() - started:.2f} s over {report.checked} entries "
            f"({'intact' if report.intact else 'BROKEN'})"
        )
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        run(url, Path(folder), args.residents, args.changed, args.repeats)


if __name__ == "__main__":
    main()
