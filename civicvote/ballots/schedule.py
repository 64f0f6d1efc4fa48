"""When and where residents vote, and what a round asks of them now.

The community page, the ballot's own pages and the voter cards all say the same thing: the
step the round is at (submit a need, vote, see the results, follow delivery) and, for a vote,
its assemblies (date, place) and its online window. The assemblies are checkin's table, read
through the ballot's ORM relationship (``Ballot.assemblies``), so no higher area is imported.
"""

from dataclasses import dataclass, field
from datetime import datetime

from ..rounds.services import INTAKE_PHASES, current_round
from .models import Ballot

# What the community page's main button does, by the round's phase (an open ballot wins).
STEP_SUBMIT = "submit"  # collecting needs: submit a need
STEP_PROPOSALS = "proposals"  # needs closed, proposals in review: read them, the vote comes next
STEP_VOTE = "vote"  # a ballot takes votes: go and vote
STEP_VOTE_SOON = "vote_soon"  # voting phase, no ballot open yet: say when it opens
STEP_RESULTS = "results"  # counted: see the results (and object during the notice)
STEP_DELIVERY = "delivery"  # funded projects are being built: follow them


@dataclass(frozen=True)
class BallotSchedule:
    """A ballot's dates: its assemblies (in order) and, unless it is assembly-only, its online
    window (either end may be open)."""

    ballot: Ballot
    assemblies: list = field(default_factory=list)
    online_opens_at: datetime | None = None
    online_closes_at: datetime | None = None

    @property
    def assembly_only(self) -> bool:
        return self.ballot.mode == "assembly"

    @property
    def online(self) -> bool:
        return self.ballot.mode != "assembly"

    @property
    def opens_at(self) -> datetime | None:
        """When residents can first vote: the first assembly or the online window's start,
        whichever comes first (None when no date is set yet)."""
        moments = [a.starts_at for a in self.assemblies if a.starts_at]
        if self.online and self.online_opens_at:
            moments.append(self.online_opens_at)
        return min(moments) if moments else None

    def upcoming_assemblies(self, now: datetime) -> list:
        """The assemblies that have not started yet, or started within the last half day
        (one still going on is worth going to)."""
        return [a for a in self.assemblies if (now - a.starts_at).total_seconds() < 12 * 3600]


def ballot_schedule(ballot: Ballot) -> BallotSchedule:
    """The dates of ``ballot`` residents plan by."""
    online = ballot.mode != "assembly"
    return BallotSchedule(
        ballot=ballot,
        assemblies=list(ballot.assemblies),
        online_opens_at=ballot.online_opens_at if online else None,
        online_closes_at=ballot.online_closes_at if online else None,
    )


@dataclass(frozen=True)
class RoundStep:
    """What a round asks of residents now (``kind``, one of the STEP_ names), with the ballots
    that take votes (``open``) and those that will (``coming``)."""

    kind: str
    round: object
    open: list = field(default_factory=list)
    coming: list = field(default_factory=list)


def round_step(funding_round) -> RoundStep:
    """The step of ``funding_round``: an open (or paused) ballot means voting whatever the
    phase says; otherwise the phase decides."""
    ballots = list(funding_round.ballots)
    open_ = [ballot_schedule(b) for b in ballots if b.status in ("open", "paused")]
    coming = [ballot_schedule(b) for b in ballots if b.status == "draft"]
    phase = funding_round.phase
    if open_:
        kind = STEP_VOTE
    elif phase in INTAKE_PHASES:
        kind = STEP_SUBMIT
    elif phase == "review":
        kind = STEP_PROPOSALS
    elif phase == "ballot":
        kind = STEP_VOTE_SOON if coming or not ballots else STEP_RESULTS
    elif phase == "delivery":
        kind = STEP_DELIVERY
    else:
        kind = STEP_RESULTS
    return RoundStep(kind=kind, round=funding_round, open=open_, coming=coming)


def community_step(community) -> RoundStep | None:
    """The step of the community's current round (rounds.services.current_round), or None."""
    funding_round = current_round(community)
    return round_step(funding_round) if funding_round is not None else None
