"""Voter cards and one-time walk-in links: issuing, finding, claiming and revoking them.

Tokens (160 random bits) and short codes (10 symbols, ~49 bits) are stored only as keyed hashes:
HMAC-SHA256 under a key derived (HKDF) from the instance's SECRET_KEY, which is never in the
database. A copy of the database alone cannot test a single guess, so the short code's ~49 bits
are attackable online only (rate-limited), and offline the work is that of guessing the key.
Cards issued before migration 0008 keep their unsalted SHA-256 (``hash_scheme = "sha256"``) and
are still accepted; docs/secrecy.md says how to retire them.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, update

from ..audit.services import record
from ..ballots.lifecycle import lock_ballot
from ..ballots.models import Ballot, Participation
from ..config import DEFAULT_BASE_URL, public_base_url
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..rounds.models import VOTE_UNIT_RESIDENT
from ..timeutil import utcnow
from .models import LEGACY_SCHEME, Credential, Household, Resident
from .services import eligible_residents_query

# Crockford-style alphabet without 0/O, 1/I/L, U: easy to read aloud and type on a phone.
SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LENGTH = 10
SHORT_CODE_GROUPS = (4, 4, 2)  # printed XXXX-XXXX-XX: short groups are easier to copy


def new_token() -> str:
    """A URL-safe token carrying 160 random bits (the QR voter-card secret)."""
    return secrets.token_urlsafe(20)


def new_short_code() -> str:
    """A typable code for phones without a camera: 10 symbols of 30 (~49 bits), rate-limited."""
    return "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def normalize_short_code(code: str) -> str:
    """A typed code in its stored form: full-width letters (Chinese input methods) folded to
    ASCII, upper case, spaces and dashes dropped."""
    folded = unicodedata.normalize("NFKC", code or "").upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def format_short_code(code: str) -> str:
    """The short code as printed: ``XXXX-XXXX-XX``."""
    groups, start = [], 0
    for size in SHORT_CODE_GROUPS:
        groups.append(code[start : start + size])
        start += size
    return "-".join(group for group in groups if group)


@lru_cache(maxsize=8)
def _credential_key(secret_key: str) -> bytes:
    """The HMAC key of credential hashes: HKDF-SHA256 of the instance secret, for this use only."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"civicvote credential hash v1"
    ).derive(secret_key.encode())


def hash_secret(secret: str) -> str:
    """The stored form of a token or short code: HMAC-SHA256 under the instance's credential key.

    Without SECRET_KEY (a copy of the database, a backup) the hash cannot be computed, so no
    guess can be checked against it offline. Changing SECRET_KEY invalidates every issued card.
    """
    key = _credential_key(current_app.config["SECRET_KEY"])
    return hmac.digest(key, secret.encode(), "sha256").hex()


# How long a browser keeps the card it opened: an assembly's speeches, not days.
VOTER_SESSION_SECONDS = 3 * 3600


@lru_cache(maxsize=8)
def _session_fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"civicvote voter session v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal_for_session(entry: dict) -> str:
    """``entry`` (a card's secret, for the browser session) encrypted and dated: the session
    cookie is signed, not encrypted, so the raw token must not sit in it readable."""
    fernet = _session_fernet(current_app.config["SECRET_KEY"])
    return fernet.encrypt(json.dumps(entry).encode()).decode()


def open_from_session(sealed) -> dict | None:
    """The entry sealed by :func:`seal_for_session`, or None when it is older than
    VOTER_SESSION_SECONDS, forged, or made under another SECRET_KEY."""
    if not isinstance(sealed, str):
        return None
    fernet = _session_fernet(current_app.config["SECRET_KEY"])
    try:
        entry = json.loads(fernet.decrypt(sealed.encode(), ttl=VOTER_SESSION_SECONDS))
    except (InvalidToken, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


def legacy_hash(secret: str) -> str:
    """The unsalted SHA-256 of cards issued before migration 0008 (``hash_scheme = "sha256"``)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_matches(column, scheme_column, keyed, legacy):
    """SQL: ``column`` holds the keyed hash, or (a card from before 0008) the legacy one.

    ``keyed`` and ``legacy`` are values or bind parameters."""
    return or_(column == keyed, and_(column == legacy, scheme_column == LEGACY_SCHEME))


def find_credential(ballot_id: int, secret: str):
    """The credential of ``ballot_id`` whose token or short code is ``secret``, or None.

    Revoked and expired credentials are returned too; callers decide what each state means.
    """

    secret = (secret or "").strip()
    if not secret or len(secret) > 64:
        return None
    found = db.session.scalar(
        db.select(Credential).where(Credential.ballot_id == ballot_id, _by_token(secret))
    )
    if found is None:
        code = normalize_short_code(secret)
        if len(code) == SHORT_CODE_LENGTH:
            by_code = hash_matches(
                Credential.short_code_hash,
                Credential.hash_scheme,
                hash_secret(code),
                legacy_hash(code),
            )
            found = db.session.scalar(
                db.select(Credential).where(Credential.ballot_id == ballot_id, by_code)
            )
    return found


def _by_token(token: str):
    return hash_matches(
        Credential.token_hash, Credential.hash_scheme, hash_secret(token), legacy_hash(token)
    )


def find_credential_by_code(secret: str) -> Credential | None:
    """The credential whose short code (or personal-link token) is ``secret``, in any ballot:
    the code names its ballot, so a resident types the code alone. Both hashes are unique.

    Revoked and expired credentials are returned too; callers decide what each state means.
    """
    secret = (secret or "").strip()
    if not secret or len(secret) > 64:
        return None
    code = normalize_short_code(secret)
    if len(code) == SHORT_CODE_LENGTH:
        by_code = hash_matches(
            Credential.short_code_hash, Credential.hash_scheme, hash_secret(code), legacy_hash(code)
        )
        found = db.session.scalar(db.select(Credential).where(by_code))
        if found is not None:
            return found
    return find_credential_by_token(secret)


def find_credential_by_token(token: str) -> Credential | None:
    """The credential whose personal-link token this is, in any ballot (token hashes are unique)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(db.select(Credential).where(_by_token(token)))


def check_usable(found: bool, revoked_at, expires_at, now: datetime) -> None:
    """Forbidden unless a credential was ``found`` that is neither revoked nor expired ``now``."""
    if not found:
        raise Forbidden(_l("This voter card is not valid for this ballot."), code="unknown")
    if revoked_at is not None:
        raise Forbidden(_l("This voter card has been withdrawn."), code="revoked")
    if expires_at is not None and expires_at <= now:
        raise Forbidden(_l("This voting link has expired."), code="expired")


def usable_credential_or_refuse(credential: Credential | None, now: datetime) -> Credential:
    """The credential if it may be used now; else Forbidden (unknown, revoked or expired)."""
    if credential is None:
        check_usable(False, None, None, now)
    check_usable(True, credential.revoked_at, credential.expires_at, now)
    return credential


def claim_credential(credential: Credential, now: datetime | None = None) -> Credential:
    """Exchange a personal link for a session: refuse revoked, expired, reused walk-in links.

    The claim is one conditional UPDATE (``... WHERE claimed_at IS NULL``), so of two phones
    opening the same walk-in link at once exactly one gets it.
    """
    now = now or utcnow()
    usable_credential_or_refuse(credential, now)
    claimed = db.session.execute(
        update(Credential)
        .where(Credential.id == credential.id, Credential.claimed_at.is_(None))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed and credential.kind == "walk_in":
        raise Forbidden(
            _l("This one-time code has already been used. Please ask at the desk."),
            code="claimed",
        )
    db.session.refresh(credential)
    return credential


# ---------------------------------------------------------------------------------------------
# Issuing and revoking credentials (voter cards and one-time walk-in links).


WALK_IN_MINUTES = 10


@dataclass(frozen=True)
class Voter:
    """One voting unit of a ballot: a resident or a household, as the round decides."""

    key: str  # "r<resident id>" or "h<household id>"
    building: str
    unit: str
    room: str
    name: str = ""  # the resident's name in a per-resident round

    @property
    def address(self) -> str:
        return "-".join(part for part in (self.building, self.unit, self.room) if part)

    @property
    def label(self) -> str:
        return f"{self.address} {self.name}".strip()


@dataclass(frozen=True)
class IssuedCard:
    """A freshly issued credential: the only moment its token and short code exist in clear."""

    voter: Voter
    token: str
    short_code: str
    link: str
    credential_id: int

    @property
    def label(self) -> str:
        return self.voter.label

    @property
    def printed_code(self) -> str:
        """The short code grouped for print (``XXXX-XXXX-XX``)."""
        return format_short_code(self.short_code)


def personal_link(base_url: str, token: str) -> str:
    """The URL a voter card's QR code carries: ``<base>/v/<token>``."""
    return f"{base_url.rstrip('/')}/v/{token}"


def base_url_for(config) -> str:
    """The base of printed links (config.public_base_url): never the request's Host header."""
    return public_base_url(config)


def extract_secret(scanned: str) -> str:
    """The token or short code in what a scanner or a person typed.

    A scanned voter card yields its personal link ``.../v/<token>`` (perhaps with a query or a
    trailing newline); a typed short code comes as-is, with spaces or dashes if the person likes.
    """
    text = (scanned or "").strip()
    match = re.search(r"/v/([A-Za-z0-9_-]+)", text)
    if match:
        return match.group(1)
    return text[:64]


def _natural(value: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", value or "")]


def _ballot_context(ballot_id: int):

    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise NotFound(_l("No such ballot."))
    return ballot


def eligible_voters(ballot, building: str | None = None) -> list[Voter]:
    """The ballot's voters in print order (building, unit, room): residents or households."""
    funding_round = ballot.round
    residents = list(
        db.session.scalars(eligible_residents_query(funding_round.community_id, funding_round.year))
    )
    voters: dict[str, Voter] = {}
    for resident in residents:
        household = resident.household
        if building and household.building != building:
            continue
        if funding_round.vote_unit == VOTE_UNIT_RESIDENT:
            key = f"r{resident.id}"
            voters[key] = Voter(
                key, household.building, household.unit, household.room, resident.name
            )
        else:
            key = f"h{household.id}"
            voters.setdefault(key, Voter(key, household.building, household.unit, household.room))
    return sorted(
        voters.values(),
        key=lambda v: (_natural(v.building), _natural(v.unit), _natural(v.room), _natural(v.key)),
    )


def voter_for_key(ballot, voter_key: str) -> Voter | None:
    """The voter behind a credential's key, whether or not still eligible (None if unknown)."""
    if not voter_key or voter_key[0] not in "rh" or not voter_key[1:].isdigit():
        return None
    community_id = ballot.round.community_id
    if voter_key[0] == "r":
        resident = db.session.get(Resident, int(voter_key[1:]))
        if resident is None or resident.community_id != community_id:
            return None
        h = resident.household
        return Voter(voter_key, h.building, h.unit, h.room, resident.name)
    household = db.session.get(Household, int(voter_key[1:]))
    if household is None or household.community_id != community_id:
        return None
    return Voter(voter_key, household.building, household.unit, household.room)


def _new_credential(ballot_id: int, voter_key: str, kind: str, expires_at=None):

    token, short = new_token(), new_short_code()
    credential = Credential(
        ballot_id=ballot_id,
        voter_key=voter_key,
        token_hash=hash_secret(token),
        short_code_hash=hash_secret(short),
        kind=kind,
        expires_at=expires_at,
    )
    db.session.add(credential)
    db.session.flush()
    return credential, token, short


def issue_credentials(
    ballot_id: int,
    building: str | None = None,
    count: int | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    actor=None,
    before_commit: Callable[[list[IssuedCard]], None] | None = None,
) -> list[IssuedCard]:
    """Issue voter cards to eligible voters of the ballot who hold no live card yet.

    ``building`` limits the batch to one building (cards are printed building by building);
    ``count`` issues at most that many, to the next voters in print order. Returns the cards with
    their tokens, which exist nowhere else afterwards: only hashes are stored.

    ``before_commit`` is called with the cards before the commit (the command line writes its
    file then): if it raises, nothing is issued.
    """

    ballot = _ballot_context(ballot_id)
    if ballot.status == "closed":
        raise Conflict(_l("This ballot is closed; no more cards can be issued."))
    if count is not None and not 1 <= count <= 100_000:
        raise DomainError(_l("The number of cards must be between 1 and 100000."))
    lock_ballot(ballot_id, exclusive=True)  # issuers of one ballot one after the other
    holders = set(
        db.session.scalars(
            db.select(Credential.voter_key).where(
                Credential.ballot_id == ballot_id,
                Credential.kind == "card",
                Credential.revoked_at.is_(None),
            )
        )
    )
    pending = [v for v in eligible_voters(ballot, building) if v.key not in holders]
    if count is not None:
        pending = pending[:count]
    cards = []
    for voter in pending:
        credential, token, short = _new_credential(ballot_id, voter.key, "card")
        cards.append(IssuedCard(voter, token, short, personal_link(base_url, token), credential.id))
    community_id = ballot.round.community_id
    record(
        "credentials.issue",
        "ballot",
        ballot_id,
        actor=actor,
        community_id=community_id,
        after={"building": building, "requested": count, "issued": len(cards)},
    )
    if before_commit is not None:
        try:
            before_commit(cards)
        except BaseException:
            db.session.rollback()
            raise
    db.session.commit()
    return cards


def revoke_credentials(
    ballot_id: int, *, voter_key: str | None = None, secret: str | None = None, actor=None
) -> int:
    """Revoke the live credentials of one voter (by key) or one credential (by token or code).

    Returns how many were revoked. A revoked card cannot be used to check in or vote; the voter
    can then be issued a new card. Commits.
    """

    ballot = _ballot_context(ballot_id)
    if bool(voter_key) == bool(secret):
        raise DomainError(_l("Name either a voter or a card code."))
    if secret:
        found = find_credential(ballot_id, extract_secret(secret))
        targets = [found] if found is not None and found.revoked_at is None else []
    else:
        targets = list(
            db.session.scalars(
                db.select(Credential).filter_by(
                    ballot_id=ballot_id, voter_key=voter_key, revoked_at=None
                )
            )
        )
    now = utcnow()
    for credential in targets:
        credential.revoked_at = now
        record(
            "credentials.revoke",
            "credential",
            credential.id,
            actor=actor,
            community_id=ballot.round.community_id,
            after={
                "ballot_id": ballot_id,
                "voter_key": credential.voter_key,
                "kind": credential.kind,
            },
        )
    db.session.commit()
    return len(targets)


def has_voted(ballot_id: int, voter_key: str) -> bool:

    return (
        db.session.scalar(
            db.select(Participation.id).filter_by(ballot_id=ballot_id, voter_key=voter_key)
        )
        is not None
    )


def issue_walk_in(ballot_id: int, voter_key: str, *, base_url: str, actor=None) -> IssuedCard:
    """A one-time credential for a walk-in at the desk: valid 10 minutes, claimable once.

    Refused when the voter is not eligible or has already voted. Earlier unclaimed walk-in
    credentials of the same voter are revoked, so only the QR on the screen works. A step of
    ``checkin.walkins.issue_confirmed_walk_in``, which commits it with the walk-in record.
    """

    ballot = _ballot_context(ballot_id)
    if ballot.status == "closed":
        raise Conflict(_l("This ballot is closed."))
    voter = next((v for v in eligible_voters(ballot) if v.key == voter_key), None)
    if voter is None:
        raise DomainError(_l("This person is not an eligible voter of this ballot."))
    if has_voted(ballot_id, voter_key):
        raise Conflict(_l("This voter has already voted in this ballot."), code="voted")
    now = utcnow()
    for old in db.session.scalars(
        db.select(Credential).filter_by(
            ballot_id=ballot_id,
            voter_key=voter_key,
            kind="walk_in",
            revoked_at=None,
            claimed_at=None,
        )
    ):
        old.revoked_at = now
    credential, token, short = _new_credential(
        ballot_id, voter_key, "walk_in", expires_at=now + timedelta(minutes=WALK_IN_MINUTES)
    )
    record(
        "credentials.walk_in",
        "credential",
        credential.id,
        actor=actor,
        community_id=ballot.round.community_id,
        after={
            "ballot_id": ballot_id,
            "voter_key": voter_key,
            "expires_at": credential.expires_at.isoformat(),
        },
    )
    return IssuedCard(voter, token, short, personal_link(base_url, token), credential.id)


def credential_summary(ballot_id: int) -> dict:
    """Counts for the console: live cards, revoked, used, walk-ins."""

    rows = db.session.execute(
        db.select(
            Credential.kind,
            Credential.revoked_at.is_(None),
            Credential.used_at.is_not(None),
            db.func.count(Credential.id),
        )
        .where(Credential.ballot_id == ballot_id)
        .group_by(Credential.kind, Credential.revoked_at.is_(None), Credential.used_at.is_not(None))
    ).all()
    summary = {"cards": 0, "revoked": 0, "used": 0, "walk_ins": 0}
    for kind, live, used, n in rows:
        if kind == "walk_in":
            summary["walk_ins"] += n
        elif live:
            summary["cards"] += n
        else:
            summary["revoked"] += n
        if used:
            summary["used"] += n
    return summary
