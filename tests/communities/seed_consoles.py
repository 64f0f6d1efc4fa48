"""Seed a server's database with the busy community for the consoles' browser tests.

Run as ``python -m tests.communities.seed_consoles`` with the server's CIVICVOTE_* environment;
prints JSON (the staff's usernames, their password, the facts) as its last line.
"""

import json

from civicvote import create_app
from tests import factories
from tests.communities.busy import busy_community


def main() -> None:
    app = create_app()
    with app.app_context(), app.test_request_context():
        place, staff, facts = busy_community()
        print(
            json.dumps(
                {
                    "slug": place.slug,
                    "name": place.name,
                    "users": {role: user.username for role, user in staff.items()},
                    "password": factories.PASSWORD,
                    **facts,
                }
            )
        )


if __name__ == "__main__":
    main()
