"""The database statements of a vote: built once here, on Core, not on ORM objects.

A vote is the hot path (hundreds a second when an assembly votes at once), and loading and
flushing objects cost several times the SQL itself. On PostgreSQL a vote is two statements, each
its own transaction (no BEGIN or COMMIT round trips):

1. STATE_BY_TOKEN reads the ballot's settings, the round, the credential, whether the voter
   took part already, whether they checked in, and the proposals with their costs, without a
   lock;
2. the vote is checked in Python (casting.py);
3. WRITE_VOTE takes the share lock on the ballot row and writes participation, sealed ballot
   box entry, vote replay and credential use only if that row still holds what step 1 read and
   is open; its commit is
   flushed before it returns. Opening, pausing, closing and editing take the row exclusively, so
   the vote is decided on the ballot's settings at the moment it is counted, and a close waits
   for it (or it for the close, and then writes nothing). If the row changed in between, the
   vote is decided again in a transaction that holds the lock from the start (LOCK_BALLOT).

SQLite takes its write lock first (BEGIN IMMEDIATE), reads, and writes the rows.

How the two statements run on PostgreSQL (:func:`first_row`): SQLAlchemy compiles each once
per dialect and says how to convert its parameters; the driver runs it. Through
``Connection.execute`` each statement costs SQLAlchemy's per-execution set-up (parameters,
cursor, result, row objects) on top: measured, that made a vote 0.1-0.4 ms of CPU dearer and
an assembly's votes 10-30 % slower (docs/architecture.md, "The vote path"). Only public
interfaces are used: ``ClauseElement.compile``, the compiled statement's binds and the types'
bind processors, ``Dialect.is_disconnect``, ``Connection.invalidate``, ``Engine.dispose`` and
``DBAPIError.instance``, so a driver error surfaces as SQLAlchemy's (IntegrityError; a lost
connection invalidated, answered 503) like any other statement's. What this path does not do
is checked, not skipped silently: no column it reads has a result processor (first_row
refuses to compile one that would), and SQLAlchemy's execution events do not see these two
statements (bench/vote_profile.py counts them at the driver). SQLite runs them through
``Connection.execute``.

The read returns only what deciding a first vote needs; the rest of a voter's participation is
read only for a voter who took part already.
"""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, bindparam, cast, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..ballots.models import Ballot, BallotBoxEntry, BallotItem, Participation, VoteReplay
from ..ballots.rules import DECIDING_COLUMNS
from ..checkin.models import Assembly, CheckIn
from ..errors import Conflict
from ..proposals.models import Proposal
from ..registry.credentials import (
    SHORT_CODE_LENGTH,
    hash_matches,
    hash_secret,
    legacy_hash,
    normalize_short_code,
)
from ..registry.models import Credential, Household, Resident
from ..rounds.models import FundingRound

_ballots = Ballot.__table__
_credentials = Credential.__table__
_participations = Participation.__table__
_box = BallotBoxEntry.__table__
_replays = VoteReplay.__table__
_rounds = FundingRound.__table__
_items = BallotItem.__table__
_proposals = Proposal.__table__

# What answering a second vote (or a retry) needs of the voter's participation.
PARTICIPATION_COLUMNS = (_participations.c.channel,)


class BallotChanged(Conflict):
    """The ballot was opened, paused, closed or edited between reading it and writing a vote."""

    def __init__(self):
        super().__init__(_l("Please send your vote again."), code="retry")


class _joined_strings(FunctionElement):
    """Text values of a group joined with commas: string_agg (PostgreSQL), group_concat."""

    type = String()
    name = "joined_strings"
    inherit_cache = True


@compiles(_joined_strings, "postgresql")
def _joined_strings_postgresql(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_joined_strings)
def _joined_strings_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


def _voter_building():
    """The building of the credential's voter ("r<resident id>" or "h<household id>"), by
    primary key: it goes sealed into the ballot box entry (allocation/buildings.py)."""
    households, residents = Household.__table__, Resident.__table__
    key = _credentials.c.voter_key
    number = cast(func.substr(key, 2), Integer)
    of_resident = (
        select(households.c.building)
        .join(residents, residents.c.household_id == households.c.id)
        .where(func.substr(key, 1, 1) == "r", residents.c.id == number)
        .scalar_subquery()
    )
    of_household = (
        select(households.c.building)
        .where(func.substr(key, 1, 1) == "h", households.c.id == number)
        .scalar_subquery()
    )
    return func.coalesce(of_resident, of_household)


def _vote_state(credential_match):
    """1. Everything a vote is decided on, in one row (None if there is no such ballot): the
    ballot's settings and round, the credential matching ``credential_match`` and the id of its
    voter's participation (NULLs if none), whether the voter checked in at an assembly of the
    ballot, and the ballot's proposals with their costs as "id:cost,id:cost"."""
    check_ins, assemblies = CheckIn.__table__, Assembly.__table__
    present = (
        select(check_ins.c.id)
        .join(assemblies, assemblies.c.id == check_ins.c.assembly_id)
        .where(assemblies.c.ballot_id == _ballots.c.id)
        .where(check_ins.c.voter_key == _credentials.c.voter_key)
        .exists()
    )
    pair = (
        cast(_items.c.proposal_id, String)
        + ":"
        + func.coalesce(cast(_proposals.c.total_fen, String), "")
    )
    building = _voter_building()
    costs = (
        select(_joined_strings(pair))
        .select_from(_items.join(_proposals, _proposals.c.id == _items.c.proposal_id))
        .where(_items.c.ballot_id == _ballots.c.id)
        .scalar_subquery()
    )
    joined = (
        _ballots.join(_rounds, _rounds.c.id == _ballots.c.round_id)
        .outerjoin(_credentials, and_(_credentials.c.ballot_id == _ballots.c.id, credential_match))
        .outerjoin(
            _participations,
            and_(
                _participations.c.ballot_id == _ballots.c.id,
                _participations.c.voter_key == _credentials.c.voter_key,
            ),
        )
    )
    return (
        select(
            *(_ballots.c[name] for name in DECIDING_COLUMNS),
            _rounds.c.community_id,
            _rounds.c.budget_fen.label("round_budget_fen"),
            _credentials.c.id.label("credential_id"),
            _credentials.c.voter_key,
            _credentials.c.revoked_at,
            _credentials.c.expires_at,
            _participations.c.id.label("participation_id"),
            present.label("present"),
            costs.label("costs"),
            building.label("building"),
        )
        .select_from(joined)
        .where(_ballots.c.id == bindparam("ballot_id"))
    )


# The keyed hash, or the legacy SHA-256 of a card issued before migration 0008.
STATE_BY_TOKEN = _vote_state(
    hash_matches(
        _credentials.c.token_hash,
        _credentials.c.hash_scheme,
        bindparam("secret_hash"),
        bindparam("legacy_hash"),
    )
)
STATE_BY_SHORT_CODE = _vote_state(
    hash_matches(
        _credentials.c.short_code_hash,
        _credentials.c.hash_scheme,
        bindparam("secret_hash"),
        bindparam("legacy_hash"),
    )
)

# Holding the share lock before reading (the retry of a vote whose ballot changed meanwhile).
# SQLite's compiler leaves FOR SHARE out; there BEGIN IMMEDIATE holds the database's write lock.
LOCK_BALLOT = (
    select(_ballots.c.id).where(_ballots.c.id == bindparam("ballot")).with_for_update(read=True)
)

# 3. The write. Parameters are not named like columns: Core would take such keys as SET values.
_VOTE_VALUES = {
    "voter_key": bindparam("voter", type_=_participations.c.voter_key.type),
    "credential_id": bindparam("credential", type_=_participations.c.credential_id.type),
    "channel": bindparam("channel", type_=_participations.c.channel.type),
    "cast_at": bindparam("day", type_=_participations.c.cast_at.type),
}
_BOX_VALUES = {
    "id": bindparam("box_id", type_=_box.c.id.type),
    "sealed": bindparam("sealed", type_=_box.c.sealed.type),
    "receipt_tag": bindparam("receipt_tag", type_=_box.c.receipt_tag.type),
}
_REPLAY_VALUES = {
    "key": bindparam("replay_key", type_=_replays.c.key.type),
    "sealed": bindparam("replay", type_=_replays.c.sealed.type),
    "expires_at": bindparam("replay_expires", type_=_replays.c.expires_at.type),
}
# SQLite: one statement per row, under the write lock taken before the read.
_INSERT_PARTICIPATION = insert(_participations).values(
    ballot_id=bindparam("ballot"), **_VOTE_VALUES
)
_INSERT_BOX = insert(_box).values(ballot_id=bindparam("ballot"), **_BOX_VALUES)
_INSERT_REPLAY = insert(_replays).values(ballot_id=bindparam("ballot"), **_REPLAY_VALUES)
_USE_CREDENTIAL = (
    update(_credentials)
    .where(_credentials.c.id == bindparam("credential"))
    .values(used_at=bindparam("now"))
)


def _guarded_write():
    """PostgreSQL: one statement of data-modifying CTEs (atomic: a unique violation on the
    participation leaves nothing written). Each row is inserted from the locked ballot row, so
    nothing is written unless the ballot is open with the settings read in step 1 ("was_*")."""
    unchanged = [
        _ballots.c[name].is_not_distinct_from(bindparam(f"was_{name}", type_=_ballots.c[name].type))
        for name in DECIDING_COLUMNS
    ]
    ballot = (
        select(_ballots.c.id)
        .where(_ballots.c.id == bindparam("ballot"), _ballots.c.status == "open", *unchanged)
        .with_for_update(read=True)
        .cte("ballot")
    )
    participation = (
        insert(_participations)
        .from_select(["ballot_id", *_VOTE_VALUES], select(ballot.c.id, *_VOTE_VALUES.values()))
        .returning(_participations.c.id)
        .cte("participation")
    )
    box_entry = (
        insert(_box)
        .from_select(["ballot_id", *_BOX_VALUES], select(ballot.c.id, *_BOX_VALUES.values()))
        .returning(_box.c.id)
        .cte("box_entry")
    )
    replay = (
        insert(_replays)
        .from_select(
            ["ballot_id", *_REPLAY_VALUES],
            select(ballot.c.id, *_REPLAY_VALUES.values()).where(_REPLAY_VALUES["key"].is_not(None)),
        )
        .returning(_replays.c.key)
        .cte("replay")
    )
    credential_use = (
        update(_credentials)
        .where(_credentials.c.id == bindparam("credential"), select(ballot.c.id).exists())
        .values(used_at=bindparam("now"))
        .returning(_credentials.c.id)
        .cte("credential_use")
    )
    return (
        select(func.count()).select_from(participation).add_cte(box_entry, replay, credential_use)
    )


WRITE_VOTE = _guarded_write()


@lru_cache(maxsize=32)
def _prepared(statement, dialect) -> tuple:
    """``statement`` compiled by SQLAlchemy for ``dialect``: its SQL, the values of its constants
    (such as 'open'), the converters of its parameters, and its columns' names."""
    compiled = statement.compile(dialect=dialect)
    for column in statement.selected_columns:
        if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
            raise TypeError(f"{column} needs SQLAlchemy's result processing: use execute()")
    constants = {
        name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
    }
    converters = {}
    for name, bind in compiled.binds.items():
        converter = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if converter is not None:
            converters[name] = converter
    return compiled.string, constants, converters, tuple(statement.selected_columns.keys())


def first_row(connection, statement, params: dict):
    """The first row of a prebuilt vote statement as a mapping of its columns, or None.

    PostgreSQL: run on the connection's driver cursor (see the module's docstring). ``params``
    may hold more keys than the statement uses."""
    dialect = connection.dialect
    if dialect.name != "postgresql":
        return connection.execute(statement, params).mappings().first()
    sql, constants, converters, names = _prepared(statement, dialect)
    values = {**constants, **params}
    for name, converter in converters.items():
        values[name] = converter(values[name])
    pooled = connection.connection
    cursor = pooled.driver_connection.cursor()
    try:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
            # As SQLAlchemy does for its own statements: one lost connection means the others
            # opened with it are likely dead too (a restarted database). Replace them all now,
            # rather than one failed request at a time.
            connection.engine.dispose()
        raise DBAPIError.instance(
            sql,
            values,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
            hide_parameters=True,  # as the engine: no vote's values in an error's message
        ) from error
    finally:
        cursor.close()
    return dict(zip(names, row, strict=True)) if row is not None else None


def parse_costs(text_value: str | None) -> dict[int, int | None]:
    """The proposals' costs as read by the vote state ("id:cost,id:cost"; cost may be empty)."""
    costs: dict[int, int | None] = {}
    for pair in (text_value or "").split(","):
        if pair:
            pid, _sep, cost = pair.partition(":")
            costs[int(pid)] = int(cost) if cost else None
    return costs


def read_vote_state(connection, ballot_id: int, secret: str):
    """Step 1 for this secret: by token hash, else (a code typed by hand) by short code.

    The row as a mapping of its columns (see :func:`_vote_state`), or None if there is no such
    ballot."""
    params = {"ballot_id": ballot_id}
    secret = (secret or "").strip()
    if not secret or len(secret) > 64:  # as find_credential: such a secret matches nothing
        params["secret_hash"] = params["legacy_hash"] = ""
        return first_row(connection, STATE_BY_TOKEN, params)
    params["secret_hash"], params["legacy_hash"] = hash_secret(secret), legacy_hash(secret)
    state = first_row(connection, STATE_BY_TOKEN, params)
    if state is not None and state["credential_id"] is None:
        code = normalize_short_code(secret)
        if len(code) == SHORT_CODE_LENGTH:
            params["secret_hash"], params["legacy_hash"] = hash_secret(code), legacy_hash(code)
            state = first_row(connection, STATE_BY_SHORT_CODE, params)
    return state


def write_vote(connection, ballot_id: int, settings, vote: dict) -> None:
    """Insert participation + cast ballot and mark the credential used on ``connection`` (in its
    transaction, or as a transaction of its own in autocommit).

    ``settings`` maps DECIDING_COLUMNS to the values the vote was checked against. ``vote``
    holds ``voter`` (key), ``credential`` (id or None), ``channel``, ``now`` (the credential's
    use), ``day`` (the participation's), the box entry's ``box_id``, ``sealed`` and
    ``receipt_tag``, and the vote replay's ``replay_key`` (None: no replay), ``replay`` and
    ``replay_expires``. Raises IntegrityError if the voter already voted, BallotChanged if the
    ballot is no longer open with those settings."""
    params = {"ballot": ballot_id, **vote}
    if connection.dialect.name == "postgresql":
        params.update({f"was_{name}": settings[name] for name in DECIDING_COLUMNS})
        if not first_row(connection, WRITE_VOTE, params)["count"]:
            raise BallotChanged()
        return
    # The unique constraint speaks on the first insert, before the ballot row exists.
    write_participation(connection, ballot_id, vote)
    write_contents(connection, ballot_id, vote)
    if vote["replay_key"] is not None:
        connection.execute(_INSERT_REPLAY, params)
    if vote["credential"] is not None:
        connection.execute(_USE_CREDENTIAL, params)


def write_participation(connection, ballot_id: int, vote: dict) -> None:
    """Insert only who took part (a paper ballot handed over: its contents come later, from a
    sheet that names no voter). ``vote`` as for :func:`write_vote`, without the contents.
    Raises IntegrityError if the voter already took part."""
    connection.execute(_INSERT_PARTICIPATION, {"ballot": ballot_id, **vote})


def write_contents(connection, ballot_id: int, vote: dict) -> None:
    """Insert only a ballot's sealed contents into the box (``box_id``, ``sealed``,
    ``receipt_tag``), no voter: the phone's vote through :func:`write_vote`, a counted paper
    sheet directly."""
    connection.execute(_INSERT_BOX, {"ballot": ballot_id, **vote})


def lock_for_vote(connection, ballot_id: int) -> None:
    """Take the ballot's share lock in ``connection``'s transaction before reading (PostgreSQL)."""
    connection.execute(LOCK_BALLOT, {"ballot": ballot_id})


_PARTICIPATION = select(*PARTICIPATION_COLUMNS).where(
    _participations.c.ballot_id == bindparam("ballot"),
    _participations.c.voter_key == bindparam("voter"),
)


def participation_of(connection, ballot_id: int, voter_key: str):
    """The voter's participation in the ballot (the columns a second vote or a retry needs),
    or None."""
    return connection.execute(_PARTICIPATION, {"ballot": ballot_id, "voter": voter_key}).first()


_REPLAY = select(_replays.c.sealed, _replays.c.expires_at).where(_replays.c.key == bindparam("key"))
_EXPIRED_REPLAYS = _replays.delete().where(_replays.c.expires_at < bindparam("now"))


def replay_of(connection, key: str):
    """The vote replay stored under ``key`` (sealed, expires_at), or None."""
    return connection.execute(_REPLAY, {"key": key}).first()


def delete_expired_replays(connection, now) -> None:
    """Wipe the vote replays whose recovery window has passed."""
    connection.execute(_EXPIRED_REPLAYS, {"now": now})


def warm_up(connection) -> None:
    """Run the vote's read once on ``connection``, for no ballot: the connection is open, the
    database has loaded the tables' definitions and the statement is compiled (see
    gunicorn_conf.py)."""
    read_vote_state(connection.execution_options(isolation_level="AUTOCOMMIT"), 0, "")
