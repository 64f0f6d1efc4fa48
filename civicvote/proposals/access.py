"""Who may see and change a proposal, and when a round takes proposals."""

from flask_babel import lazy_gettext as _l

from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..rounds.models import FundingRound
from ..rounds.services import PROPOSAL_PHASES
from .models import Proposal


def get_proposal(community, proposal_id: int) -> Proposal:
    """The community's proposal, or NotFound."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.round.community_id != community.id:
        raise NotFound(_l("This proposal does not exist."))
    return proposal


def is_owner(user, proposal: Proposal) -> bool:
    """Whether the user belongs to the organization that wrote the proposal."""
    return (
        user is not None
        and getattr(user, "organization_id", None) is not None
        and user.organization_id == proposal.organization_id
    )


def require_owner(user, proposal: Proposal) -> None:
    """Refuse (Forbidden) unless the user's organization wrote the proposal."""
    if not is_owner(user, proposal):
        raise Forbidden(_l("Only the organization that wrote this proposal can change it."))


def can_view(user, proposal: Proposal) -> bool:
    """Drafts are private to their organization; everything submitted is public."""
    return proposal.is_public or is_owner(user, proposal)


def require_open_round(funding_round: FundingRound) -> None:
    """Refuse unless the round's phase takes proposals."""
    if funding_round.phase not in PROPOSAL_PHASES:
        raise Conflict(
            _l(
                "This round is not accepting proposals now (%(phase)s).",
                phase=funding_round.phase_label,
            ),
            code="phase",
        )


def require_editable(user, proposal: Proposal) -> None:
    """Refuse unless the user's organization wrote the proposal and it can still be changed."""
    require_owner(user, proposal)
    if not proposal.editable:
        raise Conflict(
            _l("This proposal cannot be changed now (%(status)s).", status=proposal.status_label),
            code="locked",
        )
