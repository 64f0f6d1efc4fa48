"""The close's steps (ballots/lifecycle.py): one list, run in the documented order."""

import pytest

from civicvote.ballots import lifecycle
from civicvote.ballots.models import BallotBoxEntry, CastBallot
from civicvote.checkin.services import freeze_quorum
from civicvote.extensions import db
from civicvote.voting import casting
from civicvote.voting.sealing import close_step
from tests import factories


def test_the_registered_steps_are_in_the_documented_order(app):
    """docs/architecture.md: "seal" (voting) first, then "figures" (checkin's quorum)."""
    assert lifecycle.CLOSE_STAGES == ("seal", "figures")
    assert lifecycle.close_steps() == [close_step, freeze_quorum]
    assert [stage for stage, _step in lifecycle.CLOSE_STEPS] == ["seal", "figures"]


def test_a_close_runs_steps_by_stage_then_what_they_return_after_the_commit(app):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot, "h1")
    casting.cast_vote(ballot.id, token, {"selections": [ballot.items[0].proposal_id]})
    seen = []

    def figures_step(closing):
        # Registered before the seal step below, but runs after every "seal" step and after
        # the quorum was frozen (registered earlier in the same stage).
        seen.append(("figures", closing.quorum_outcome is not None, _sealed(closing.id)))
        return None  # nothing to do after the commit

    def seal_step(closing):
        seen.append(("seal", closing.quorum_outcome is not None, _sealed(closing.id)))
        return lambda: seen.append(("after commit", _committed_status(closing.id)))

    saved = list(lifecycle.CLOSE_STEPS)
    try:
        lifecycle.on_close(figures_step)  # default stage: "figures"
        lifecycle.on_close(seal_step, stage="seal")
        lifecycle.on_close(seal_step, stage="seal")  # a second registration is ignored
        assert lifecycle.close_steps() == [close_step, seal_step, freeze_quorum, figures_step]
        lifecycle.change_status(ballot.id, "close", actor=None)
    finally:
        lifecycle.CLOSE_STEPS[:] = saved
    assert seen == [
        ("seal", False, True),  # the box was sealed first; the quorum not yet frozen
        ("figures", True, True),
        ("after commit", "closed"),
    ]


def test_an_unknown_stage_is_refused(app):
    with pytest.raises(ValueError):
        lifecycle.on_close(lambda ballot: None, stage="tidy")
    assert lifecycle.close_steps() == [close_step, freeze_quorum]


def _sealed(ballot_id: int) -> bool:
    """The ballot box is empty and its contents are cast ballots."""
    box = db.session.scalar(db.select(db.func.count()).select_from(BallotBoxEntry))
    cast = db.session.scalar(
        db.select(db.func.count()).select_from(CastBallot).filter_by(ballot_id=ballot_id)
    )
    return box == 0 and cast == 1


def _committed_status(ballot_id: int) -> str:
    """The ballot's status as another connection sees it: what the close committed."""
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(
            f"SELECT status FROM ballots WHERE id = {int(ballot_id)}"
        ).scalar()
