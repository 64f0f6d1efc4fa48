"""Answers to objections: published in public, and changed only by a visible amendment.

The organizers' answer form, still showing after an answer was published, must not replace it
when sent again: an answered objection is refused there, and "修改答复" (amend the answer)
publishes a new version, checked against the version the organizer read; every earlier
version stays published with its date.
"""

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import Conflict, DomainError
from ..extensions import db
from ..rounds.models import FundingRound
from ..timeutil import utcnow
from .models import Objection, ObjectionAnswer
from .services import MAX_OBJECTION


def _answer_text(objection: Objection, answer: str) -> str:
    answer = (answer or "").strip()
    if not answer or len(answer) > MAX_OBJECTION:
        raise DomainError(_l("Write the answer (at most 2,000 characters)."), code="bad_text")
    if objection.run.status != "provisional":
        raise Conflict(_l("The result is final; its objections are closed."), code="final")
    return answer


def _publish_answer(objection: Objection, answer: str, actor, action: str) -> Objection:
    before = {"answer": objection.answer, "version": len(objection.answers)}
    objection.answers.append(ObjectionAnswer(text=answer, answered_by_id=actor.id))
    objection.answer = answer
    objection.status = "answered"
    objection.answered_by_id = actor.id
    objection.answered_at = utcnow()
    record(
        action,
        "objection",
        objection.id,
        actor=actor,
        community_id=db.session.get(FundingRound, objection.run.round_id).community_id,
        public=True,
        before=before,
        after={"answer": answer, "version": len(objection.answers)},
    )
    db.session.commit()
    return objection


def answer_objection(objection: Objection, answer: str, *, actor) -> Objection:
    """The organizers' first public answer. An answered objection is refused here: its answer
    changes only through :func:`amend_answer`, visibly (a form still showing, sent again, must
    not replace a published answer)."""
    answer = _answer_text(objection, answer)
    if objection.answers or objection.status == "answered":
        raise Conflict(
            _l(
                "This objection already has a published answer. To change it, use "
                "“Amend the answer”: the earlier answer stays published."
            ),
            code="answered",
        )
    return _publish_answer(objection, answer, actor, "objection.answer")


def amend_answer(objection: Objection, answer: str, *, version: int, actor) -> Objection:
    """Publish a new version of the answer; earlier versions stay published, listed with it.

    ``version`` is how many versions the organizer saw: if another amendment came in between,
    the amendment is refused rather than silently replacing an answer nobody read.
    """
    answer = _answer_text(objection, answer)
    if not objection.answers:
        raise Conflict(_l("This objection has no answer to amend yet."), code="unanswered")
    if version != len(objection.answers):
        raise Conflict(
            _l("The answer was amended meanwhile. Read the current answer, then amend it."),
            code="stale",
        )
    if answer == objection.answer:
        raise DomainError(_l("The amended answer is the same as the published one."), code="same")
    return _publish_answer(objection, answer, actor, "objection.amend")
