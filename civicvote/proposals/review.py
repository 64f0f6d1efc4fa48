"""Submission and review.

An organization submits or withdraws; a reviewer approves, returns or rejects.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import Conflict, DomainError, Forbidden, too_long
from ..extensions import db
from .access import is_owner, require_open_round, require_owner
from .checks import automatic_checks
from .models import Proposal, ProposalVersion, Review
from .versions import snapshot

DECISIONS = ("approve", "return", "reject")
DECISION_STATUS = {"approve": "approved", "return": "returned", "reject": "rejected"}
DECISION_LABELS = {
    "approve": _l("Approved for the ballot"),
    "return": _l("Returned for revision"),
    "reject": _l("Rejected"),
}


def submit(proposal: Proposal, user, *, expected_version: int | None = None) -> Proposal:
    """Submit (or resubmit) for review: a new frozen version with the automatic checks.

    ``expected_version`` is the version the organization saw; a second click of the same
    submit button finds the proposal already submitted at the next version and changes nothing.
    """
    require_owner(user, proposal)
    if (
        expected_version is not None
        and proposal.status == "submitted"
        and proposal.version == expected_version + 1
    ):
        return proposal
    require_open_round(proposal.round)
    if not proposal.line_items:
        raise DomainError(_l("Add at least one line item before submitting."), code="items")
    if not proposal.needs:
        raise DomainError(
            _l("Choose at least one accepted need the proposal answers."), code="needs"
        )
    before = {"status": proposal.status, "version": proposal.version}
    proposal.change_status("submitted")
    proposal.version += 1
    frozen = snapshot(proposal)
    frozen["checks"] = automatic_checks(proposal)
    db.session.add(
        ProposalVersion(
            proposal_id=proposal.id,
            number=proposal.version,
            snapshot=frozen,
            submitted_by_id=user.id,
        )
    )
    try:
        db.session.flush()
    except IntegrityError:  # the same version submitted twice at once
        db.session.rollback()
        return db.session.get(Proposal, proposal.id)
    record(
        "proposal.submit",
        "proposal",
        proposal.id,
        actor=user,
        community_id=proposal.round.community_id,
        before=before,
        after={"status": "submitted", "version": proposal.version, "total_fen": proposal.total_fen},
        public=True,
    )
    db.session.commit()
    return proposal


def review(
    proposal: Proposal,
    reviewer,
    decision: str,
    comment: str = "",
    *,
    expected_version: int | None = None,
) -> Review:
    """A reviewer's decision on the submitted version: approve, return with comments, reject
    with a public reason. Approval needs every automatic check to pass."""
    if decision not in DECISIONS:
        raise DomainError(_l("Choose approve, return or reject."), code="decision")
    if expected_version is not None and proposal.version != expected_version:
        raise Conflict(_l("A newer version was submitted; please read it first."))
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise too_long(4000)
    if decision in ("return", "reject") and not comment:
        raise DomainError(
            _l("Please write the comments or reason the organization will read."), code="comment"
        )
    if is_owner(reviewer, proposal):
        raise Forbidden(_l("An organization cannot review its own proposal."))
    if proposal.status != "submitted":
        raise Conflict(
            _l("Only proposals waiting for review can be decided."), code="proposal_transition"
        )
    checks = automatic_checks(proposal)
    if decision == "approve" and not all(c["ok"] for c in checks):
        raise DomainError(
            _l("This proposal fails the automatic checks: return it or reject it."),
            code="checks",
        )
    before = {"status": proposal.status}
    proposal.change_status(DECISION_STATUS[decision])
    if decision == "reject":
        proposal.rejection_reason = comment
    entry = Review(
        proposal_id=proposal.id,
        version=proposal.version,
        reviewer_id=reviewer.id,
        decision=decision,
        comment=comment,
        automatic_checks=checks,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        f"proposal.{decision}",
        "proposal",
        proposal.id,
        actor=reviewer,
        community_id=proposal.round.community_id,
        before=before,
        after={"status": proposal.status, "version": proposal.version, "comment": comment},
        public=True,
    )
    db.session.commit()
    return entry


def withdraw(proposal: Proposal, user) -> Proposal:
    """The organization takes its proposal back; the withdrawal is public once submitted."""
    require_owner(user, proposal)
    before = {"status": proposal.status}
    proposal.change_status("withdrawn")
    record(
        "proposal.withdraw",
        "proposal",
        proposal.id,
        actor=user,
        community_id=proposal.round.community_id,
        before=before,
        after={"status": "withdrawn"},
        public=proposal.version > 0,
    )
    db.session.commit()
    return proposal
