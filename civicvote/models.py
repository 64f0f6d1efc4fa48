"""Import every area's models so SQLAlchemy and Alembic see the whole schema."""

from .accounts.models import Membership, User  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .ballots.live import LiveSnapshot  # noqa: F401
from .ballots.models import (  # noqa: F401
    Ballot,
    BallotBoxEntry,
    BallotItem,
    CastBallot,
    PaperBallotEntry,
    PaperSheet,
    PaperSheetBatch,
    Participation,
    VoteReplay,
)
from .checkin.models import Assembly, CheckIn, WalkIn  # noqa: F401
from .communities.models import Community  # noqa: F401
from .delivery.models import (  # noqa: F401
    CompletionReport,
    ProgressUpdate,
    Rating,
    SpendingEntry,
)
from .intake.models import Need, NeedSupport  # noqa: F401
from .organizations.models import Organization  # noqa: F401
from .proposals.models import (  # noqa: F401
    LineItem,
    Milestone,
    Proposal,
    ProposalDocument,
    ProposalVersion,
    Review,
)
from .registry.models import CardBatch, Credential, Household, Resident  # noqa: F401
from .results.models import (  # noqa: F401
    AllocationRun,
    Objection,
    ObjectionAnswer,
    ProjectAllocation,
)
from .rounds.models import FundingRound, FundSource, RoundCategory  # noqa: F401
from .uploads.models import Upload  # noqa: F401
