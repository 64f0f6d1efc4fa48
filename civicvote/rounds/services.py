"""Funding-round rules (categories, caps, budget, required documents) and phase changes."""

import hashlib
import re
import unicodedata

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from .models import (
    COMPLETION_LABELS,
    PHASES,
    RULE_LABELS,
    SOURCE_GENERAL,
    SOURCE_KINDS,
    SOURCE_MATCHING,
    SOURCE_RESTRICTED,
    TIE_LABELS,
    VOTE_UNIT_HOUSEHOLD,
    VOTE_UNIT_RESIDENT,
    FundingRound,
    FundSource,
    RoundCategory,
    categories_in_use,
)

# Phases in which residents and staff may add needs, and organizations draft and submit.
INTAKE_PHASES = ("intake", "costing")
PROPOSAL_PHASES = ("intake", "costing", "review")
# How votes are counted is fixed before anyone votes; money can still be confirmed while
# people vote, but not once the allocation has started.
COUNTING_SETTLED_FROM = "ballot"
SOURCES_SETTLED_FROM = "allocation"
ALLOCATION_RULES = tuple(RULE_LABELS)
TIE_BREAKS = tuple(TIE_LABELS)
VOTE_UNITS = (VOTE_UNIT_HOUSEHOLD, VOTE_UNIT_RESIDENT)
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


def parse_categories(text: str) -> list[tuple[str | None, str]]:
    """Lines of category names (``为老服务``) into (code, name) pairs, the code None: the
    round makes it (``category_codes``). A line ``code = name`` keeps its own code, as rounds
    written before codes were made still do. Refuses bad codes, long names and duplicates."""
    pairs: list[tuple[str | None, str]] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        code, sep, name = line.partition("=")
        code, name = (code.strip(), name.strip()) if sep else (None, line)
        if (code is not None and not CATEGORY_CODE.match(code)) or not name or len(name) > 60:
            raise DomainError(
                _l(
                    "Write one category name per line, at most 60 characters "
                    "(for example: 为老服务)."
                ),
                code="categories",
            )
        if name in {n for _, n in pairs} or (code and code in {c for c, _ in pairs}):
            raise DomainError(
                _l("The category %(code)s is listed twice.", code=code or name),
                code="categories",
            )
        pairs.append((code, name))
    if not pairs:
        raise DomainError(_l("A round needs at least one category."), code="categories")
    if len(pairs) > 30:
        raise DomainError(_l("A round can have at most 30 categories."), code="categories")
    return pairs


def _slug(name: str) -> str:
    """A code for a category name: its ASCII words if it has any (``Greening`` → greening),
    else ``cat-`` and a short digest of the name (the same name gives the same code in every
    round, so exports of several rounds line up)."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", name).lower())
    slug = "-".join(words)[:32].strip("-")
    if slug:
        return slug
    return "cat-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def category_codes(
    pairs: list[tuple[str | None, str]], existing: list[RoundCategory] = ()
) -> list[tuple[str, str]]:
    """Give every category of ``pairs`` a code, unique in the round and stable.

    A category named as before keeps its code; a line whose name changed in place (same
    position, its old name gone) is a renamed category and keeps its code too; a new name
    gets a new code (``_slug``, with ``-2``, ``-3``... when taken). Codes given explicitly
    are kept as they are.
    """
    by_name = {c.name: c.code for c in existing}
    names = {name for _, name in pairs}
    # The codes of categories whose name is gone, by their old position: renamed in place?
    explicit = {code for code, _ in pairs if code}
    vacated = {
        i: c.code for i, c in enumerate(existing) if c.name not in names and c.code not in explicit
    }
    taken = explicit | set(by_name.values())
    result = []
    for position, (code, name) in enumerate(pairs):
        if code is None:
            code = by_name.get(name) or vacated.pop(position, None)
        if code is None:
            code = base = _slug(name)
            number = 2
            while code in taken:
                code, number = f"{base}-{number}", number + 1
        taken.add(code)
        result.append((code, name))
    return result


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
    categories: list[tuple[str | None, str]],
    required_documents: list[str],
    actor=None,
) -> FundingRound:
    """Change a round's rules. Categories still used by needs or proposals cannot be removed."""
    if budget_fen <= 0:
        raise DomainError(_l("The budget must be more than zero."))
    if budget_fen != funding_round.budget_fen and voting_started(funding_round):
        # A budget ballot's choices are held to the round's budget: a vote limit.
        raise Conflict(
            _l("Voting has started: the round's budget is fixed, as residents were shown it."),
            code="settled",
        )
    if per_project_cap_fen is not None and per_project_cap_fen > budget_fen:
        raise DomainError(_l("The cap per project cannot be more than the total budget."))
    before = _rules(funding_round)
    categories = category_codes(categories, list(funding_round.categories))
    wanted = dict(categories)
    removed = [c for c in funding_round.categories if c.code not in wanted]
    in_use = categories_in_use(funding_round.id) if removed else set()
    for existing in removed:
        if existing.code in in_use:
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


def _before(funding_round: FundingRound, phase: str) -> bool:
    return PHASES.index(funding_round.phase) < PHASES.index(phase)


def voting_started(funding_round: FundingRound) -> bool:
    """Whether a ballot of the round has ever opened: from then on its rules are fixed."""
    return any(ballot.opened_at is not None for ballot in funding_round.ballots)


def counting_open(funding_round: FundingRound) -> bool:
    """Whether the rule, ties, notice period and who votes may still change: not once the
    round reaches its ballot phase or any of its ballots has opened."""
    return _before(funding_round, COUNTING_SETTLED_FROM) and not voting_started(funding_round)


def sources_open(funding_round: FundingRound) -> bool:
    """Whether fund sources may still change (until the allocation starts)."""
    return _before(funding_round, SOURCES_SETTLED_FROM)


def create_round(
    community,
    *,
    name: str,
    year: int,
    budget_fen: int,
    categories: list[tuple[str | None, str]],
    description: str = "",
    fund_name: str = "",
    actor=None,
) -> FundingRound:
    """Start a community's new round, collecting needs, with one general fund of its budget.

    A community runs one round at a time: residents' needs and the public pages go to it.
    """
    running = [r for r in community.rounds if r.phase != "closed"]
    if running:
        raise Conflict(
            _l(
                "The round %(name)s is still running. Close it before starting a new one.",
                name=running[-1].name,
            ),
            code="round_running",
        )
    if not 2000 <= year <= 2100:
        raise DomainError(_l("Enter a year between 2000 and 2100."), code="year")
    if budget_fen <= 0:
        raise DomainError(_l("The budget must be more than zero."), code="money")
    funding_round = FundingRound(
        community_id=community.id,
        name=name,
        year=year,
        description=description,
        budget_fen=budget_fen,
        phase=PHASES[0],
    )
    funding_round.categories = [
        RoundCategory(code=code, name=label, position=i)
        for i, (code, label) in enumerate(category_codes(categories))
    ]
    funding_round.fund_sources = [
        FundSource(name=fund_name or name, kind=SOURCE_GENERAL, amount_fen=budget_fen)
    ]
    db.session.add(funding_round)
    db.session.flush()
    record(
        "round.create",
        "funding_round",
        funding_round.id,
        actor=actor,
        community_id=community.id,
        after={"name": name, "year": year, **_rules(funding_round)},
        public=True,
    )
    db.session.commit()
    return funding_round


def _counting(funding_round: FundingRound) -> dict:
    return {
        "allocation_rule": funding_round.allocation_rule,
        "tie_break": funding_round.tie_break,
        "mes_completion": funding_round.mes_completion,
        "notice_days": funding_round.notice_days,
        "vote_unit": funding_round.vote_unit,
        "building_min_ballots": funding_round.building_min_ballots,
    }


def update_counting(
    funding_round: FundingRound,
    *,
    allocation_rule: str,
    tie_break: str,
    notice_days: int,
    vote_unit: str,
    mes_completion: str = "add1",
    building_min_ballots: int | None = None,
    actor=None,
) -> FundingRound:
    """Set how the round's votes are counted and turned into funding, before voting starts.

    ``building_min_ballots`` (None: unchanged): the smallest group of ballots that may keep
    its building (allocation/buildings.py), 10 to 1000."""
    if not counting_open(funding_round):
        raise Conflict(
            _l("How votes are counted is fixed once voting has started."), code="settled"
        )
    if allocation_rule not in ALLOCATION_RULES or tie_break not in TIE_BREAKS:
        raise DomainError(_l("Choose one of the listed options."), code="choice")
    if vote_unit not in VOTE_UNITS or mes_completion not in COMPLETION_LABELS:
        raise DomainError(_l("Choose one of the listed options."), code="choice")
    if not 1 <= notice_days <= 60:
        raise DomainError(_l("The public notice lasts from 1 to 60 days."), code="notice_days")
    if vote_unit != funding_round.vote_unit and funding_round.ballots:
        raise Conflict(
            _l("A ballot already exists: who votes cannot change now."), code="vote_unit"
        )
    if building_min_ballots is not None and not 10 <= building_min_ballots <= 1000:
        raise DomainError(
            _l("A building group needs from 10 to 1000 ballots."), code="building_min_ballots"
        )
    before = _counting(funding_round)
    if building_min_ballots is not None:
        funding_round.building_min_ballots = building_min_ballots
    funding_round.allocation_rule = allocation_rule
    funding_round.tie_break = tie_break
    funding_round.mes_completion = mes_completion
    funding_round.notice_days = notice_days
    funding_round.vote_unit = vote_unit
    record(
        "round.counting",
        "funding_round",
        funding_round.id,
        actor=actor,
        community_id=funding_round.community_id,
        before=before,
        after=_counting(funding_round),
        public=True,
    )
    db.session.commit()
    return funding_round


def _source(source: FundSource) -> dict:
    return {
        "name": source.name,
        "kind": source.kind,
        "amount_fen": source.amount_fen,
        "categories": list(source.categories or []),
        "per_project_cap_fen": source.per_project_cap_fen,
        "match_ratio_percent": source.match_ratio_percent,
        "donor": source.donor,
        "public": source.public,
    }


def _require_sources_open(funding_round: FundingRound) -> None:
    if not sources_open(funding_round):
        raise Conflict(
            _l("Fund sources are fixed once the allocation has started."), code="settled"
        )


def _check_source(funding_round: FundingRound, fields: dict, *, editing=None) -> None:
    """Refuse a fund source the allocation could not honour (see civicvote.allocation)."""
    _require_sources_open(funding_round)
    kind = fields["kind"]
    if kind not in SOURCE_KINDS:
        raise DomainError(_l("Choose one of the listed options."), code="choice")
    if fields["amount_fen"] <= 0:
        raise DomainError(_l("The amount must be more than zero."), code="money")
    cap = fields["per_project_cap_fen"]
    if cap is not None and cap > fields["amount_fen"]:
        raise DomainError(
            _l("The cap per project cannot be more than the source's amount."), code="cap"
        )
    unknown = set(fields["categories"]) - set(funding_round.category_codes())
    if unknown:
        raise DomainError(_l("Choose categories of this round."), code="categories")
    if kind == SOURCE_GENERAL and fields["categories"]:
        raise DomainError(
            _l("A general source pays any category: make it restricted to limit it."),
            code="categories",
        )
    if kind == SOURCE_RESTRICTED and not fields["categories"] and cap is None:
        raise DomainError(
            _l("A restricted source names the categories it pays for, or a cap per project."),
            code="restricted",
        )
    ratio = fields["match_ratio_percent"]
    if kind == SOURCE_MATCHING:
        if ratio is None or not 1 <= ratio <= 1000:
            raise DomainError(
                _l("A matching donor adds from 1 to 1000 percent of what residents' funds put in."),
                code="ratio",
            )
        others = [
            s.match_ratio_percent
            for s in funding_round.fund_sources
            if s.kind == SOURCE_MATCHING and s is not editing
        ]
        if others and others[0] != ratio:
            # The allocation treats all matching donors as one pool with one ratio.
            raise DomainError(
                _l(
                    "All matching donors of a round match at one ratio, here %(ratio)s%%.",
                    ratio=others[0],
                ),
                code="ratio",
            )
    elif ratio is not None:
        raise DomainError(_l("Only a matching donor has a matching ratio."), code="ratio")


def _record_source(action: str, source: FundSource, funding_round, actor, before=None) -> None:
    record(
        action,
        "fund_source",
        source.id,
        actor=actor,
        community_id=funding_round.community_id,
        before=before,
        after=None if action == "fund_source.remove" else _source(source),
        public=True,
    )


def add_source(funding_round: FundingRound, *, actor=None, **fields) -> FundSource:
    """Add a fund source: the general fund, a restricted gift or a matching donor."""
    _check_source(funding_round, fields)
    source = FundSource(round_id=funding_round.id, **fields)
    funding_round.fund_sources.append(source)
    db.session.flush()
    _record_source("fund_source.add", source, funding_round, actor)
    db.session.commit()
    return source


def update_source(source: FundSource, *, actor=None, **fields) -> FundSource:
    funding_round = source.round
    _check_source(funding_round, fields, editing=source)
    before = _source(source)
    for name, value in fields.items():
        setattr(source, name, value)
    _record_source("fund_source.update", source, funding_round, actor, before)
    db.session.commit()
    return source


def remove_source(source: FundSource, *, actor=None) -> None:
    funding_round = source.round
    _require_sources_open(funding_round)
    if len(funding_round.fund_sources) == 1:
        raise Conflict(_l("A round needs at least one fund source."), code="last_source")
    _record_source("fund_source.remove", source, funding_round, actor, _source(source))
    funding_round.fund_sources.remove(source)
    db.session.commit()


def get_source(funding_round: FundingRound, source_id: int) -> FundSource:
    source = db.session.get(FundSource, source_id)
    if source is None or source.round_id != funding_round.id:
        raise NotFound(_l("This fund source does not exist."))
    return source
