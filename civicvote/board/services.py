"""What the public board shows, assembled from the round, its ballot, check-ins and results.

Every worker computes the same snapshot from the database, so boards served by different
workers (or hosts) agree; a short per-process cache keeps a thousand polling screens cheap.
"""

import hashlib
import json
import threading
import time

from ..ballots.models import Ballot
from ..ballots.setup import community_ballots
from ..communities.models import Community
from ..delivery.tracking import progress_percent
from ..extensions import db
from ..results.models import AllocationRun
from ..rounds.models import FundingRound
from ..timeutil import utcnow

PANELS = ("auto", "attendance", "results", "funded")
CACHE_SECONDS = 0.5

_cache: dict = {}
_refreshing: dict = {}
_cache_lock = threading.Lock()


def assembly_in_progress(community: Community, now=None):
    """The assembly being held: the one that started last, of a ballot still open or paused."""
    from ..checkin.models import Assembly

    return db.session.scalar(
        db.select(Assembly)
        .join(Ballot, Assembly.ballot_id == Ballot.id)
        .join(FundingRound, Ballot.round_id == FundingRound.id)
        .filter(
            FundingRound.community_id == community.id,
            Ballot.status.in_(("open", "paused")),
            Assembly.starts_at <= (now or utcnow()),
        )
        .order_by(Assembly.starts_at.desc(), Assembly.id.desc())
        .limit(1)
    )


def _latest_assembly(ballot: Ballot, now=None):
    from ..checkin.models import Assembly

    return db.session.scalar(
        db.select(Assembly)
        .filter(Assembly.ballot_id == ballot.id, Assembly.starts_at <= (now or utcnow()))
        .order_by(Assembly.starts_at.desc(), Assembly.id.desc())
        .limit(1)
    )


def current_ballot(community: Community) -> Ballot | None:
    """The ballot the board follows: the presenter's choice; else the ballot of the assembly in
    progress; else an open or paused one, else the latest closed, else a draft."""
    ballots = community_ballots(community.id)
    chosen = [b for b in ballots if b.id == community.board_ballot_id]
    if chosen:
        return chosen[0]
    assembly = assembly_in_progress(community)
    if assembly is not None:
        return assembly.ballot
    for wanted in (("open", "paused"), ("closed",), ("draft",)):
        for ballot in ballots:
            if ballot.status in wanted:
                return ballot
    return None


def results_visible(ballot: Ballot) -> bool:
    """Some ballots keep results hidden until they close."""
    return ballot.status == "closed" or (ballot.results_visible_live and ballot.status != "draft")


def _funded(funding_round: FundingRound) -> list[dict]:
    run = db.session.scalar(
        db.select(AllocationRun)
        .filter_by(round_id=funding_round.id)
        .filter(AllocationRun.status.in_(("provisional", "final")))
        .order_by(AllocationRun.id.desc())
        .limit(1)
    )
    if run is None:
        return []
    projects = []
    for item in run.projects:
        if not item.funded:
            continue
        proposal = item.proposal
        projects.append(
            {
                "proposal_id": proposal.id,
                "title": proposal.title,
                "amount_fen": item.amount_fen,
                "status": run.status,
                # The figure the project's own page shows (delivery.tracking).
                "progress_percent": progress_percent(proposal.id),
            }
        )
    return projects


def snapshot(community: Community) -> dict:
    """The board's data for one community, without any time-dependent field."""
    from ..checkin.services import assembly_attendance, quorum_status
    from ..results.services import pass_votes_required
    from ..voting.tally import public_counts

    ballot = current_ballot(community)
    data: dict = {
        "community": {"id": community.id, "name": community.name, "slug": community.slug},
        "panel": community.board_panel or "auto",
        "round": None,
        "ballot": None,
        "attendance": None,
        "assembly": None,
        "turnout": None,
        "results": None,
        "live": None,
        "funded": [],
    }
    funding_round = ballot.round if ballot else (community.rounds[-1] if community.rounds else None)
    if funding_round is not None:
        data["round"] = {
            "id": funding_round.id,
            "name": funding_round.name,
            "phase": funding_round.phase,
            "budget_fen": funding_round.budget_fen,
        }
        data["funded"] = _funded(funding_round)
    if ballot is None:
        return data
    data["ballot"] = {
        "id": ballot.id,
        "title": ballot.title,
        "status": ballot.status,
        "method": ballot.method,
        "mode": ballot.mode,
        "pass_threshold_percent": ballot.pass_threshold_percent,
        "results_visible": results_visible(ballot),
    }
    data["attendance"] = quorum_status(ballot)
    assembly = _latest_assembly(ballot)
    if assembly is not None:
        data["assembly"] = {
            "id": assembly.id,
            "title": assembly.title,
            "present": assembly_attendance(assembly),
        }
    counts = public_counts(ballot)
    cast = counts.cast
    data["turnout"] = {"cast": cast, "eligible": counts.eligible, "percent": counts.turnout_percent}
    if counts.live is not None:
        data["live"] = {
            "batch_size": counts.live.batch_size,
            "next_update_after": counts.live.next_update_after,
        }
    if data["ballot"]["results_visible"]:
        funded_ids = {p["proposal_id"] for p in data["funded"]}
        rows = []
        for item in ballot.items:
            votes = counts.votes.get(item.proposal_id, 0)
            rows.append(
                {
                    "proposal_id": item.proposal_id,
                    "title": item.proposal.title,
                    "cost_fen": item.proposal.total_fen,
                    "votes": votes,
                    "passes": cast > 0
                    and votes >= pass_votes_required(ballot.pass_threshold_percent, cast),
                    "funded": item.proposal_id in funded_ids,
                }
            )
        rows.sort(key=lambda row: (-row["votes"], row["cost_fen"], row["proposal_id"]))
        data["results"] = rows
    return data


def version_of(data: dict) -> str:
    """A short stable hash of a snapshot: the ETag boards poll with."""
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def cached(key, compute, seconds: float | None = None):
    """``compute()``'s value, reused by this worker for ``seconds`` under ``key``.

    One thread computes a key at a time: while it does, the other threads of the worker are
    handed the previous value (if there is one) instead of all computing the same thing.
    """
    seconds = CACHE_SECONDS if seconds is None else seconds
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
        refresh = _refreshing.setdefault(key, threading.Lock())
    if hit and not refresh.acquire(blocking=False):
        return hit[1]  # another thread is computing the new value right now
    if not hit:
        refresh.acquire()
    try:
        with _cache_lock:
            fresh = _cache.get(key)
            if fresh and fresh is not hit and fresh[0] > time.monotonic():
                return fresh[1]  # computed by another thread while this one waited
        value = compute()
        with _cache_lock:
            _cache[key] = (now + seconds, value)
            if len(_cache) > 1000:  # bounded: drop expired entries
                for stale in [k for k, (expiry, _) in _cache.items() if expiry <= now]:
                    _cache.pop(stale, None)
                    _refreshing.pop(stale, None)
        return value
    finally:
        refresh.release()


def fresh_value(key):
    """This worker's cached value under ``key`` while it is fresh, else None; never computes.

    Read without the lock: one dict lookup is atomic, and a value just replaced is as good."""
    entry = _cache.get(key)
    if entry is None or entry[0] <= time.monotonic():
        return None
    return entry[1]


def live_key(slug: str) -> tuple:
    """The cache key of the board's live state at ``slug`` (board.views._live_state)."""
    return ("live", slug)


def forget_key(key) -> None:
    with _cache_lock:
        _cache.pop(key, None)


def forget(community_id: int) -> None:
    """Drop this worker's cached boards of a community (after a presenter change)."""
    community = db.session.get(Community, community_id)
    slug = community.slug if community else None
    with _cache_lock:
        for key in [k for k in _cache if k[0] == community_id or slug in k[1:2]]:
            _cache.pop(key, None)


def _presenter_choice(community: Community, field: str, key: str, value, *, actor) -> None:
    """Store one of the presenter's choices on the community (audited) and drop the cached
    boards, so every screen follows."""
    from ..audit.services import record

    before = getattr(community, field)
    setattr(community, field, value)
    record(
        f"board.{key}",
        "community",
        community.id,
        actor=actor,
        community_id=community.id,
        before={key: before},
        after={key: value},
    )
    db.session.commit()
    forget(community.id)


def set_panel(community: Community, panel: str, *, actor) -> None:
    """The presenter's choice of what every screen shows."""
    from ..errors import DomainError

    if panel not in PANELS:
        raise DomainError("unknown panel", code="bad_panel")
    _presenter_choice(community, "board_panel", "panel", panel, actor=actor)


def set_ballot(community: Community, ballot_id: int | None, *, actor) -> None:
    """The presenter's choice of the ballot every screen shows (None: follow the assembly in
    progress)."""
    from ..errors import DomainError

    if ballot_id is not None and ballot_id not in {b.id for b in community_ballots(community.id)}:
        raise DomainError("unknown ballot", code="bad_ballot")
    _presenter_choice(community, "board_ballot_id", "ballot", ballot_id, actor=actor)
