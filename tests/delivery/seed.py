"""Seed a server's database with a funded project for browser tests; prints JSON to stdout.

Run as ``python -m tests.delivery.seed`` with the server's CIVICVOTE_* environment.
"""

import json

from civicvote import create_app
from tests import factories
from tests.delivery.builders import funded_project, voter_card


def main() -> None:
    app = create_app()
    with app.app_context():
        place, proposal, _run, ballot, staff = funded_project()
        token, short = voter_card(ballot, "5栋")
        print(
            json.dumps(
                {
                    "slug": place.slug,
                    "proposal_id": proposal.id,
                    "token": token,
                    "short": short,
                    "users": {role: user.username for role, user in staff.items()},
                    "password": factories.PASSWORD,
                }
            )
        )


if __name__ == "__main__":
    main()
