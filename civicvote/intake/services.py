"""Needs: submission by residents and staff, "me too" support, triage and public listing."""

import hashlib
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import Conflict, DomainError, NotFound, too_long
from ..extensions import db
from ..rounds.models import FundingRound
from ..rounds.services import round_for_needs
from ..timeutil import iso_utc
from .models import CHANNELS, Need, NeedSupport, proposal_needs

# No 0/O, 1/I/L: a code read aloud or copied from paper should not be mistyped.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31**10 ≈ 8×10^14 codes: not guessable at any rate limit
LIMITS = {"title": 100, "description": 2000, "place": 100, "contact": 100}
PUBLIC_STATUSES = ("new", "accepted", "declined")


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """What a resident types (spaces, dashes, small letters) into the stored form."""
    return re.sub(r"[^A-Z0-9]", "", (code or "").upper())[:16]


def format_code(code: str) -> str:
    """A code in groups of five for reading and writing down."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5))


def find_by_code(code: str) -> Need | None:
    normalized = normalize_code(code)
    if not normalized:
        return None
    return db.session.scalar(db.select(Need).filter_by(tracking_code=normalized))


def get_need(community, need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or need.community_id != community.id:
        raise NotFound(_l("This need does not exist."))
    return need


def _check_text(title: str, description: str, place: str, contact: str) -> None:
    if not title.strip():
        raise DomainError(_l("Please give the need a title."), code="title")
    for name, value in (
        ("title", title),
        ("description", description),
        ("place", place),
        ("contact", contact),
    ):
        if len(value) > LIMITS[name]:
            raise too_long(LIMITS[name], code=name)


def submit_need(
    community,
    *,
    title: str,
    description: str = "",
    category_code: str = "",
    place: str = "",
    contact: str = "",
    channel: str = "online",
    entered_by=None,
    submission_key: str | None = None,
    submitter_hash: str | None = None,
) -> Need:
    """Record a need in the community's round that is collecting needs.

    A repeated ``submission_key`` (the same form sent twice) returns the need already made.
    Staff entries (``entered_by``) carry the channel the need was collected through.
    ``submitter_hash`` is the submitting browser's supporter key (see :func:`supporter_hash`).
    """
    if submission_key:
        existing = db.session.scalar(db.select(Need).filter_by(submission_key=submission_key))
        if existing is not None:
            if existing.community_id != community.id:
                raise Conflict(_l("This form was already used. Please reload it."))
            return existing
    funding_round = round_for_needs(community)
    if funding_round is None:
        raise Conflict(_l("This community is not collecting needs at the moment."), code="closed")
    title, description = title.strip(), description.strip()
    place, contact = place.strip(), contact.strip()
    _check_text(title, description, place, contact)
    if category_code and category_code not in funding_round.category_codes():
        raise DomainError(_l("Choose a category from the list."), code="category")
    if channel not in CHANNELS:
        raise DomainError(_l("Choose a channel from the list."), code="channel")
    if channel != "online" and entered_by is None:
        raise DomainError(_l("Only staff can enter needs collected offline."), code="channel")
    need = Need(
        community_id=community.id,
        round_id=funding_round.id,
        tracking_code=new_tracking_code(),
        title=title,
        description=description,
        category_code=category_code,
        place=place,
        contact=contact,
        channel=channel,
        status="new",
        support_count=0,
        entered_by_id=getattr(entered_by, "id", None),
        submission_key=submission_key or None,
        submitter_hash=submitter_hash,
    )
    db.session.add(need)
    try:
        db.session.flush()
    except IntegrityError:
        # The same form arrived twice at once: the other request made the need.
        db.session.rollback()
        existing = db.session.scalar(db.select(Need).filter_by(submission_key=submission_key))
        if existing is None:
            raise
        return existing
    if entered_by is not None:
        record(
            "need.enter",
            "need",
            need.id,
            actor=entered_by,
            community_id=community.id,
            after={"title": title, "channel": channel, "category": category_code},
            public=True,
        )
    db.session.commit()
    return need


def supporter_hash(browser_secret: str) -> str:
    return hashlib.sha256(("civicvote-support:" + browser_secret).encode()).hexdigest()


def _recount(need_id: int) -> None:
    count = (
        db.select(db.func.count(NeedSupport.id))
        .where(NeedSupport.need_id == need_id)
        .scalar_subquery()
    )
    db.session.execute(db.update(Need).where(Need.id == need_id).values(support_count=count))


def resolve(need: Need) -> Need:
    """Follow merges to the need that stands for this one now."""
    seen = set()
    while need.status == "merged" and need.merged_into is not None and need.id not in seen:
        seen.add(need.id)
        need = need.merged_into
    return need


def support_need(need: Need, browser_secret: str) -> tuple[Need, bool]:
    """Add one "me too" from a browser. Returns (the supported need, whether it was new).

    Supporting a merged need supports the need it was merged into. The count is recomputed
    from the support rows in the same transaction, so it never drifts from them.
    """
    if not browser_secret or len(browser_secret) < 16:
        raise DomainError(_l("Your browser did not keep our cookie. Please try again."))
    need = resolve(need)
    if need.status == "declined":
        raise Conflict(_l("This need was declined and cannot be supported."), code="declined")
    key = supporter_hash(browser_secret)
    exists = db.session.scalar(
        db.select(NeedSupport.id).filter_by(need_id=need.id, supporter_hash=key)
    )
    if exists:
        return need, False
    need_id = need.id
    db.session.add(NeedSupport(need_id=need_id, supporter_hash=key))
    try:
        db.session.flush()
    except IntegrityError:
        # The same browser tapped twice at once; the unique constraint kept one support.
        db.session.rollback()
        return db.session.get(Need, need_id), False
    _recount(need_id)
    db.session.commit()
    db.session.refresh(need)
    return need, True


def has_supported(need: Need, browser_secret: str | None) -> bool:
    if not browser_secret:
        return False
    return bool(
        db.session.scalar(
            db.select(NeedSupport.id).filter_by(
                need_id=resolve(need).id, supporter_hash=supporter_hash(browser_secret)
            )
        )
    )


def _audit(action: str, need: Need, actor, before: dict, after: dict) -> None:
    record(
        action,
        "need",
        need.id,
        actor=actor,
        community_id=need.community_id,
        before=before,
        after=after,
        public=True,
    )


def accept_need(need: Need, *, actor) -> Need:
    before = {"status": need.status}
    need.change_status("accepted")
    need.decline_reason = ""
    _audit("need.accept", need, actor, before, {"status": need.status})
    db.session.commit()
    return need


def decline_need(need: Need, reason: str, *, actor) -> Need:
    """Decline with a reason the resident reads on the tracking page."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Please give the reason residents will see."), code="reason")
    if len(reason) > 1000:
        raise too_long(1000)
    used = db.session.scalar(
        db.select(db.func.count())
        .select_from(proposal_needs)
        .where(proposal_needs.c.need_id == need.id)
    )
    if used:
        raise Conflict(_l("A proposal answers this need, so it cannot be declined."))
    before = {"status": need.status, "reason": need.decline_reason}
    need.change_status("declined")
    need.decline_reason = reason
    _audit("need.decline", need, actor, before, {"status": need.status, "reason": reason})
    db.session.commit()
    return need


def _author_key(need: Need) -> str:
    """The supporter key a need's author stands under once the need is merged into another:
    the submitting browser's when known (so their "me too" there is not counted twice), else
    one of the need's own (an entry from staff, or a browser without our cookie)."""
    return need.submitter_hash or supporter_hash(f"need-author:{need.id}")


def merge_needs(duplicate: Need, target: Need, *, actor) -> Need:
    """Merge ``duplicate`` into ``target``: its supporters and its author become the target's
    supporters (each counted once), its channel counts with the target's, proposals answering
    it answer the target; the duplicate's tracking page then points to the target."""
    if duplicate.id == target.id:
        raise DomainError(_l("A need cannot be merged into itself."))
    if duplicate.community_id != target.community_id or duplicate.round_id != target.round_id:
        raise DomainError(_l("Only needs of the same round can be merged."))
    if target.status not in ("new", "accepted"):
        raise Conflict(_l("Merge into a need that is waiting or accepted."))
    before = {"status": duplicate.status, "supports": duplicate.support_count}
    duplicate.change_status("merged")
    duplicate.merged_into_id = target.id
    # The target's own author is not one of its supporters: never added by a merge.
    target_keys = set(
        db.session.scalars(db.select(NeedSupport.supporter_hash).filter_by(need_id=target.id))
    ) | {_author_key(target)}
    for support in db.session.scalars(db.select(NeedSupport).filter_by(need_id=duplicate.id)):
        if support.supporter_hash in target_keys:
            db.session.delete(support)
        else:
            support.need_id = target.id
            target_keys.add(support.supporter_hash)
    if _author_key(duplicate) not in target_keys:
        db.session.add(NeedSupport(need_id=target.id, supporter_hash=_author_key(duplicate)))
    _move_answers(duplicate, target)
    db.session.flush()
    _recount(duplicate.id)
    _recount(target.id)
    _audit(
        "need.merge",
        duplicate,
        actor,
        before,
        {"status": "merged", "merged_into": target.id},
    )
    db.session.commit()
    db.session.refresh(target)
    db.session.refresh(duplicate)
    return target


def _move_answers(duplicate: Need, target: Need) -> None:
    """Proposals answering the duplicate now answer the target."""
    linked = set(
        db.session.scalars(
            db.select(proposal_needs.c.proposal_id).where(proposal_needs.c.need_id == duplicate.id)
        )
    )
    already = set(
        db.session.scalars(
            db.select(proposal_needs.c.proposal_id).where(proposal_needs.c.need_id == target.id)
        )
    )
    db.session.execute(proposal_needs.delete().where(proposal_needs.c.need_id == duplicate.id))
    for proposal_id in linked - already:
        db.session.execute(
            proposal_needs.insert().values(proposal_id=proposal_id, need_id=target.id)
        )


def merged_into(need: Need) -> list[Need]:
    """Every need merged into this one, directly or through a need merged into it."""
    found, frontier = [], [need.id]
    while frontier:
        children = list(
            db.session.scalars(db.select(Need).where(Need.merged_into_id.in_(frontier)))
        )
        found.extend(children)
        frontier = [child.id for child in children]
    return found


def channel_counts(need: Need) -> dict[str, int]:
    """Through which channels this need reached us: its own and every need merged into it."""
    counts: dict[str, int] = {}
    for each in [need, *merged_into(need)]:
        counts[each.channel] = counts.get(each.channel, 0) + 1
    return counts


def list_needs(
    funding_round: FundingRound,
    *,
    status: str = "",
    category: str = "",
    place: str = "",
    include_merged: bool = False,
) -> list[Need]:
    query = db.select(Need).filter_by(round_id=funding_round.id)
    if status:
        query = query.filter_by(status=status)
    elif not include_merged:
        query = query.where(Need.status != "merged")
    if category:
        query = query.filter_by(category_code=category)
    if place:
        query = query.filter_by(place=place)
    return list(db.session.scalars(query.order_by(Need.support_count.desc(), Need.id)))


def need_counts(funding_round: FundingRound) -> dict:
    """Counts for the public list, the triage page and the report: by status, by category and
    of needs standing (merged ones left out), and by channel of every need received."""
    rows = db.session.execute(
        db.select(Need.status, Need.category_code, Need.channel, db.func.count(Need.id))
        .where(Need.round_id == funding_round.id)
        .group_by(Need.status, Need.category_code, Need.channel)
    ).all()
    counts = {"status": {}, "category": {}, "channel": {}, "total": 0}
    for status, category, channel, n in rows:
        counts["status"][status] = counts["status"].get(status, 0) + n
        # A merged need still came through its channel: it counts there (as in the report),
        # and its voice is carried by the need it was merged into.
        counts["channel"][channel] = counts["channel"].get(channel, 0) + n
        if status == "merged":
            continue
        counts["category"][category] = counts["category"].get(category, 0) + n
        counts["total"] += n
    return counts


def places(funding_round: FundingRound) -> list[str]:
    return sorted(
        p
        for p in db.session.scalars(
            db.select(Need.place).where(Need.round_id == funding_round.id).distinct()
        )
        if p
    )


def proposals_answering(need: Need) -> list:
    """The public proposals that answer this need (drafts stay private)."""
    return [p for p in need.answered_by if p.is_public]


def need_json(need: Need) -> dict:
    """Public data of a need: never the contact, the tracking code or who entered it."""
    return {
        "id": need.id,
        "round_id": need.round_id,
        "title": need.title,
        "description": need.description,
        "category": need.category_code,
        "place": need.place,
        "channel": need.channel,
        "status": need.status,
        "decline_reason": need.decline_reason if need.status == "declined" else "",
        "merged_into": need.merged_into_id,
        "supports": need.support_count,
        "created_at": iso_utc(need.created_at),
    }
