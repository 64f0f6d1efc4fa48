"""Import every area's models so SQLAlchemy and Alembic see the whole schema."""

from .accounts.models import Membership, User  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .ballots.models import (Ballot, BallotItem, CastBallot, Credential,  # noqa: F401
                             PaperBallotEntry, Participation)
from .checkin.models import Assembly, CheckIn  # noqa: F401
from .communities.models import Community  # noqa: F401
from .delivery.models import (CompletionReport, Milestone, ProgressUpdate, Rating,  # noqa: F401
                              SpendingEntry, Upload)
from .intake.models import Need, NeedSupport  # noqa: F401
from .organizations.models import Organization  # noqa: F401
from .proposals.models import LineItem, Proposal, ProposalVersion, Review  # noqa: F401
from .registry.models import Household, Resident  # noqa: F401
from .results.models import AllocationRun, Objection, ProjectAllocation  # noqa: F401
from .rounds.models import FundingRound, FundSource, RoundCategory  # noqa: F401
