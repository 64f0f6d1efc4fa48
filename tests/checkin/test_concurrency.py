"""Two desks scanning the same card at the same moment record one check-in."""

import threading

from civicvote.checkin.models import CheckIn
from civicvote.checkin.services import check_in
from civicvote.extensions import db
from civicvote.registry.credentials import issue_credentials
from tests import factories


def test_simultaneous_scans_of_one_card_check_in_once(app):
    community = factories.community()
    funding_round = factories.funding_round(community)
    factories.registry(community, buildings=1, rooms=1, per_room=1)
    ballot = factories.ballot(funding_round)
    assembly = factories.assembly(ballot)
    card = issue_credentials(ballot.id, base_url="http://x")[0]
    db.session.commit()
    assembly_id = assembly.id
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def desk():
        with app.app_context():
            try:
                from civicvote.checkin.models import Assembly

                here = db.session.get(Assembly, assembly_id)
                barrier.wait()
                result = check_in(here, card.link)
                db.session.commit()
                outcomes.append(result.already)
            except Exception as error:  # collected and reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=desk) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == [False] + [True] * 7
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 1
