"""Funding-round rules (categories, caps, budget, required documents) and phase changes."""

import re

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..intake.models import Need
from ..proposals.models import Proposal
from .models import FundingRound, RoundCategory

# Phases in which residents and staff may add needs, and organizations draft and submit.
INTAKE_PHASES = ("intake", "costing")
PROPOSAL_PHASES = ("intake", "costing", "review")
CATEGORY_CODE = re.compile(r"^[a-z0-9_-]{1,40}$")


def current_round(community) -> FundingRound | None:
    """The community's newest round that is not closed (the one the public pages are about)."""
    rounds = [r for r in community.rounds if r.phase != "closed"]
    return rounds[-1] if rounds else (community.rounds[-1] if community.rounds else None)


def round_for_needs(community) -> FundingRound | None:
    """The round currently collecting needs in this community, if any."""
    funding_round = current_round(community)
    if funding_round is not None and funding_round.phase in INTAKE_PHASES:
        return funding_round
    return None


def get_round(community, round_id: int) -> FundingRound:
    funding_round = db.session.get(FundingRound, round_id)
    if funding_round is None or funding_round.community_id != community.id:
        raise NotFound(_l("This funding round does not exist."))
    return funding_round


def parse_categories(text: str) -> list[tuple[str, str]]:
    """Lines of ``code = name`` into pairs; refuses bad codes, long names and duplicates."""
    pairs: list[tuple[str, str]] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        code, sep, name = line.partition("=")
        code, name = code.strip(), name.strip()
        if not sep or not CATEGORY_CODE.match(code) or not name or len(name) > 60:
            raise DomainError(
                _l(
                    "Write each category as code = name, the code in small letters or digits "
                    "(for example: greening = 环境绿化)."
                ),
                code="categories",
            )
        if code in {c for c, _ in pairs}:
            raise DomainError(_l("The category %(code)s is listed twice.", code=code))
        pairs.append((code, name))
    if not pairs:
        raise DomainError(_l("A round needs at least one category."), code="categories")
    if len(pairs) > 30:
        raise DomainError(_l("A round can have at most 30 categories."), code="categories")
    return pairs


def parse_documents(text: str) -> list[str]:
    names = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if len(line) > 80:
            raise DomainError(_l("Each document name can have at most 80 characters."))
        if line not in names:
            names.append(line)
    if len(names) > 10:
        raise DomainError(_l("A round can require at most 10 documents."))
    return names


def _rules(funding_round: FundingRound) -> dict:
    return {
        "budget_fen": funding_round.budget_fen,
        "per_project_cap_fen": funding_round.per_project_cap_fen,
        "categories": [[c.code, c.name] for c in funding_round.categories],
        "required_documents": list(funding_round.required_documents or []),
    }


def update_rules(
    funding_round: FundingRound,
    *,
    budget_fen: int,
    per_project_cap_fen: int | None,
    categories: list[tuple[str, str]],
    required_documents: list[str],
    actor=None,
) -> FundingRound:
    """Change a round's rules. Categories still used by needs or proposals cannot be removed."""
    if budget_fen <= 0:
        raise DomainError(_l("The budget must be more than zero."))
    if per_project_cap_fen is not None and per_project_cap_fen > budget_fen:
        raise DomainError(_l("The cap per project cannot be more than the total budget."))
    before = _rules(funding_round)
    wanted = dict(categories)
    for existing in list(funding_round.categories):
        if existing.code in wanted:
            continue
        used = db.session.scalar(
            db.select(db.func.count(Need.id)).filter_by(
                round_id=funding_round.id, category_code=existing.code
            )
        ) + db.session.scalar(
            db.select(db.func.count(Proposal.id)).filter_by(
                round_id=funding_round.id, category_code=existing.code
            )
        )
        if used:
            raise Conflict(
                _l(
                    "The category %(name)s is used by needs or proposals and cannot be removed.",
                    name=existing.name,
                )
            )
        funding_round.categories.remove(existing)
    db.session.flush()
    by_code = {c.code: c for c in funding_round.categories}
    for position, (code, name) in enumerate(categories):
        if code in by_code:
            by_code[code].name = name
            by_code[code].position = position
        else:
            funding_round.categories.append(RoundCategory(code=code, name=name, position=position))
    funding_round.budget_fen = budget_fen
    funding_round.per_project_cap_fen = per_project_cap_fen
    funding_round.required_documents = required_documents
    db.session.flush()
    record(
        "round.rules",
        "funding_round",
        funding_round.id,
        actor=actor,
        community_id=funding_round.community_id,
        before=before,
        after=_rules(funding_round),
        public=True,
    )
    db.session.commit()
    return funding_round


def advance_phase(funding_round: FundingRound, *, expected_phase: str, actor=None) -> str:
    """Move the round one phase on. ``expected_phase`` makes a repeated click harmless."""
    if funding_round.phase != expected_phase:
        raise Conflict(_l("The round has already moved on to another phase."))
    before = funding_round.phase
    funding_round.advance()
    record(
        "round.advance",
        "funding_round",
        funding_round.id,
        actor=actor,
        community_id=funding_round.community_id,
        before={"phase": before},
        after={"phase": funding_round.phase},
        public=True,
    )
    db.session.commit()
    return funding_round.phase
