"""Seed a funded project paid by one fund source, beside a children's fund that gave it ¥0;
prints JSON to stdout. Run as ``python -m tests.delivery.seed_sources`` with the server's
CIVICVOTE_* environment."""

import json

from civicvote import create_app
from civicvote.extensions import db
from civicvote.rounds.models import FundSource
from tests import factories
from tests.delivery.builders import funded_project


def main() -> None:
    app = create_app()
    with app.app_context():
        place, proposal, run, _ballot, staff = funded_project()
        children = FundSource(
            round_id=proposal.round_id, name="儿童基金", kind="restricted", amount_fen=5000_00
        )
        db.session.add(children)
        db.session.flush()
        allocation = run.projects[0]
        allocation.funding_by_source = {**allocation.funding_by_source, str(children.id): 0}
        db.session.commit()
        print(
            json.dumps(
                {
                    "slug": place.slug,
                    "proposal_id": proposal.id,
                    "users": {role: user.username for role, user in staff.items()},
                    "password": factories.PASSWORD,
                }
            )
        )


if __name__ == "__main__":
    main()
