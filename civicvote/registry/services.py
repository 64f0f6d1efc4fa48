"""The voter registry: CSV import, staff edits, and who may vote in a ballot.

CSV format (one row per resident; the header row names the columns, Chinese or English):

- ``external_ref`` (编号, 居民编号), required: the registry's own id; a re-import updates it.
- ``name`` (姓名), required: up to 60 characters.
- ``building`` (楼栋, 楼号), required, e.g. ``3栋``; ``unit`` (单元), optional, e.g. ``1单元``;
  ``room`` (房号, 室号), required, e.g. ``302``. Each up to 20 characters.
- ``birth_year`` (出生年份), optional: four digits; without it the resident cannot vote.
- ``residence_status`` (居住状态), optional: ``registered``/``户籍``, ``resident``/``常住``,
  ``moved_out``/``迁出`` or ``other``/``其他`` (default ``registered``).
- ``eligible`` (投票资格), optional: ``yes``/``是``/``1`` or ``no``/``否``/``0``, the registry's
  own decision (default yes), e.g. ``no`` for a person the committee excluded.

Files may be UTF-8 (with or without a byte-order mark, as Excel writes it) or GB18030 (which
covers GBK and GB2312, as WPS and older Excel write it). An import is all-or-nothing: every row is
checked first and nothing is written unless all rows are clean. Residents missing from a later
file are left as they are (a registry export may cover one building only).

Eligibility to vote in a ballot (:func:`is_eligible`): the registry's ``eligible`` flag is set,
the residence status is ``registered`` or ``resident``, and the resident turns
``MIN_VOTING_AGE`` (16) during the round's year (``round.year - birth_year >= 16``). In a
household round, a household may vote when at least one of its residents is eligible.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from ..errors import DomainError, NotFound
from ..extensions import db
from .models import Household, Resident

MIN_VOTING_AGE = 16
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000

RESIDENCE_STATUSES = ("registered", "resident", "moved_out", "other")
VOTING_STATUSES = ("registered", "resident")
RESIDENCE_LABELS = {
    "registered": _l("Registered residence"),
    "resident": _l("Long-term resident"),
    "moved_out": _l("Moved out"),
    "other": _l("Other"),
}

# Accepted header names for each column (compared after stripping and lower-casing).
COLUMNS = {
    "external_ref": ("external_ref", "ref", "id", "编号", "居民编号", "人员编号"),
    "name": ("name", "姓名"),
    "building": ("building", "楼栋", "楼号", "楼"),
    "unit": ("unit", "单元"),
    "room": ("room", "房号", "室号", "门牌号"),
    "birth_year": ("birth_year", "出生年份", "出生年"),
    "residence_status": ("residence_status", "status", "居住状态", "户籍状态"),
    "eligible": ("eligible", "投票资格", "有投票资格"),
}
REQUIRED = ("external_ref", "name", "building", "room")
STATUS_VALUES = {
    "registered": "registered",
    "户籍": "registered",
    "户籍人口": "registered",
    "resident": "resident",
    "常住": "resident",
    "常住人口": "resident",
    "moved_out": "moved_out",
    "迁出": "moved_out",
    "other": "other",
    "其他": "other",
}
YES = {"yes", "y", "true", "1", "是", "有"}
NO = {"no", "n", "false", "0", "否", "无"}
LIMITS = {"external_ref": 40, "name": 60, "building": 20, "unit": 20, "room": 20}


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRejected(DomainError):
    """The file as a whole cannot be read (encoding, header, size)."""


def decode_csv(data: bytes) -> str:
    """Text of an uploaded CSV: UTF-8 (BOM or not) first, then GB18030."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRejected(
            _l("The file is larger than %(size)d MB.", size=MAX_IMPORT_BYTES // (1024 * 1024))
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise ImportRejected(
            _l("The file is neither UTF-8 nor GB18030 text. Save it as CSV (UTF-8) and retry.")
        ) from error


def _header_map(header: list[str]) -> dict[str, int]:
    aliases = {alias.lower(): key for key, names in COLUMNS.items() for alias in names}
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = aliases.get((raw or "").strip().lstrip("\ufeff").lower())
        if key is None:
            continue
        if key in found:
            raise ImportRejected(_l("The column %(name)s appears twice.", name=raw.strip()))
        found[key] = index
    missing = [key for key in REQUIRED if key not in found]
    if missing:
        raise ImportRejected(
            _l(
                "Missing columns: %(columns)s. The first row must name the columns.",
                columns=_column_names(missing),
            )
        )
    return found


def _column_names(keys: list[str]) -> str:
    """Columns by their Chinese names; an English page adds the English ones."""
    chinese = [COLUMNS[k][3 if k == "external_ref" else 1] for k in keys]
    locale = get_locale()
    if locale is not None and locale.language == "en":
        return ", ".join(f"{k} ({name})" for k, name in zip(keys, chinese, strict=True))
    return "、".join(chinese)


def _parse_row(values: dict[str, str], this_year: int, names: dict) -> tuple[dict, str | None]:
    """One row's clean values, or the first reason it is not acceptable.

    ``names`` maps each column to its header as written in the file, for the messages.
    """
    row = {key: (values.get(key) or "").strip() for key in COLUMNS}
    for key in REQUIRED:
        if not row[key]:
            return row, str(_l("%(column)s is empty.", column=names.get(key, key)))
    for key, limit in LIMITS.items():
        if len(row[key]) > limit:
            return row, str(
                _l(
                    "%(column)s is longer than %(limit)d characters.",
                    column=names.get(key, key),
                    limit=limit,
                )
            )
    birth = row["birth_year"]
    if birth:
        if not (birth.isdigit() and len(birth) == 4 and 1900 <= int(birth) <= this_year):
            return row, str(
                _l("birth_year must be a year between 1900 and %(year)d.", year=this_year)
            )
        row["birth_year"] = int(birth)
    else:
        row["birth_year"] = None
    status = row["residence_status"].lower() or "registered"
    if status not in STATUS_VALUES:
        return row, str(_l("Unknown residence_status %(value)s.", value=row["residence_status"]))
    row["residence_status"] = STATUS_VALUES[status]
    flag = row["eligible"].lower()
    if flag and flag not in YES | NO:
        return row, str(_l("eligible must be yes or no."))
    row["eligible"] = flag not in NO
    return row, None


def parse_registry_csv(text: str, *, this_year: int | None = None) -> tuple[list, list[RowError]]:
    """Rows as (line number, clean values) and the errors found; nothing touches the database."""
    this_year = this_year or date.today().year
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected(_l("The file is empty.")) from None
    except csv.Error as error:
        raise ImportRejected(_l("The file is not valid CSV.")) from error
    columns = _header_map(header)
    names = {key: header[index].strip().lstrip("\ufeff") for key, index in columns.items()}
    rows, errors, seen = [], [], {}
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append(RowError(reader.line_num, str(_l("This line is not valid CSV."))))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue  # blank lines (Excel leaves them at the end) are not errors
        if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
            raise ImportRejected(_l("More than %(count)d rows.", count=MAX_IMPORT_ROWS))
        values = {key: raw[index] if index < len(raw) else "" for key, index in columns.items()}
        row, problem = _parse_row(values, this_year, names)
        if problem is None and row["external_ref"] in seen:
            problem = str(
                _l(
                    "external_ref %(ref)s is also on line %(line)d.",
                    ref=row["external_ref"],
                    line=seen[row["external_ref"]],
                )
            )
        if problem:
            errors.append(RowError(line, problem))
        else:
            seen[row["external_ref"]] = line
            rows.append((line, row))
    return rows, errors


def _household(community_id: int, building: str, unit: str, room: str, cache: dict):
    """The household at that address, made if missing; ``created`` is true only the first time."""
    key = (building, unit, room)
    if key in cache:
        return cache[key], False
    household = db.session.scalar(
        db.select(Household).filter_by(
            community_id=community_id, building=building, unit=unit, room=room
        )
    )
    created = household is None
    if created:
        household = Household(community_id=community_id, building=building, unit=unit, room=room)
        db.session.add(household)
        db.session.flush()
    cache[key] = household
    return household, created


_SNAPSHOT_FIELDS = ("name", "birth_year", "residence_status", "eligible")


def _values_of(resident: Resident) -> dict:
    return {key: getattr(resident, key) for key in _SNAPSHOT_FIELDS}


def _row_snapshot(values: dict, address: str) -> dict:
    """A resident's registry values as the audit log keeps them (the household by address)."""
    return {"household": address, **{key: values[key] for key in _SNAPSHOT_FIELDS}}


def _may_vote(snapshot: dict) -> bool:
    """Whether the registry lets this person vote at all (age aside, which depends on the
    round): the flag, a voting residence status and a known birth year."""
    return (
        bool(snapshot["eligible"])
        and snapshot["residence_status"] in VOTING_STATUSES
        and snapshot["birth_year"] is not None
    )


@dataclass
class _ImportChanges:
    """What each resident was and became, for the audit entry: the whole row of those added,
    the changed fields (and the name) of those changed; and who may no longer vote."""

    was: dict = field(default_factory=dict)
    became: dict = field(default_factory=dict)
    made_ineligible: list[str] = field(default_factory=list)


def _import_row(community, row, existing, addresses, cache, result, changes) -> None:
    """Add or update the resident of one parsed row, counting it in ``result``."""
    household, created = _household(community.id, row["building"], row["unit"], row["room"], cache)
    if created:
        result.households_created += 1
    values = {
        "household_id": household.id,
        "name": row["name"],
        "birth_year": row["birth_year"],
        "residence_status": row["residence_status"],
        "eligible": row["eligible"],
    }
    ref = row["external_ref"]
    resident = existing.get(ref)
    if resident is None:
        db.session.add(Resident(community_id=community.id, external_ref=ref, **values))
        result.created += 1
        changes.became[ref] = _row_snapshot(values, household.address)
    elif any(getattr(resident, key) != value for key, value in values.items()):
        old = _row_snapshot(_values_of(resident), addresses[resident.household_id])
        new = _row_snapshot(values, household.address)
        if _may_vote(old) and not _may_vote(new):
            changes.made_ineligible.append(ref)
        for key, value in values.items():
            setattr(resident, key, value)
        result.updated += 1
        changed = [key for key in new if new[key] != old[key]]
        changes.was[ref] = {"name": old["name"], **{key: old[key] for key in changed}}
        changes.became[ref] = {"name": new["name"], **{key: new[key] for key in changed}}
    else:
        result.unchanged += 1


def import_registry(community, data: bytes | str, *, actor=None) -> ImportResult:
    """Import a registry CSV into ``community``; all rows are written or none.

    ``data`` is the uploaded file (bytes, decoded as UTF-8 or GB18030) or already-decoded text.
    Returns the counts; when the file has bad rows, ``errors`` lists them and nothing is written.
    Raises :class:`ImportRejected` when the file cannot be read at all. Commits the import.
    """
    from ..audit.services import record

    text = decode_csv(data) if isinstance(data, bytes) else data
    rows, errors = parse_registry_csv(text)
    result = ImportResult(errors=errors)
    if errors:
        return result
    if not rows:
        raise ImportRejected(_l("The file has no resident rows."))
    existing = {
        r.external_ref: r
        for r in db.session.scalars(db.select(Resident).filter_by(community_id=community.id))
    }
    # Each household's address as it was, for the audit log (plain rows: no objects to track).
    addresses = {
        row.id: Household.address.fget(row)
        for row in db.session.execute(
            db.select(Household.id, Household.building, Household.unit, Household.room).filter_by(
                community_id=community.id
            )
        )
    }
    cache: dict = {}
    changes = _ImportChanges()
    for _line, row in rows:
        _import_row(community, row, existing, addresses, cache, result, changes)
    db.session.flush()
    record(
        "registry.import",
        "community",
        community.id,
        actor=actor,
        community_id=community.id,
        before={"residents": changes.was} if changes.was else None,
        after={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "households_created": result.households_created,
            "made_ineligible": changes.made_ineligible,
            "residents": changes.became,
        },
    )
    db.session.commit()
    return result


def save_resident(community, values: dict, *, resident: Resident | None = None, actor=None):
    """Create (``resident`` None) or update one resident from staff entry, and commit.

    ``values``: external_ref, name, building, unit, room, birth_year, residence_status, eligible.
    """
    from ..audit.services import record

    ref = values["external_ref"].strip()
    clash = db.session.scalar(
        db.select(Resident).filter_by(community_id=community.id, external_ref=ref)
    )
    if clash is not None and clash is not resident:
        raise DomainError(_l("Another resident already has the reference %(ref)s.", ref=ref))
    if values["residence_status"] not in RESIDENCE_STATUSES:
        raise DomainError(_l("Unknown residence status."))
    household, _created = _household(
        community.id, values["building"], values.get("unit") or "", values["room"], {}
    )
    fields = {
        "external_ref": ref,
        "name": values["name"],
        "household_id": household.id,
        "birth_year": values.get("birth_year"),
        "residence_status": values["residence_status"],
        "eligible": bool(values.get("eligible", True)),
    }
    if resident is None:
        resident = Resident(community_id=community.id, **fields)
        db.session.add(resident)
        db.session.flush()
        record(
            "resident.create",
            "resident",
            resident.id,
            actor=actor,
            community_id=community.id,
            after=_snapshot(resident, household),
        )
        db.session.commit()
        return resident
    if resident.community_id != community.id:
        raise NotFound(_l("No such resident."))
    before = _snapshot(resident, resident.household)
    for key, value in fields.items():
        setattr(resident, key, value)
    db.session.flush()
    db.session.refresh(resident)
    record(
        "resident.update",
        "resident",
        resident.id,
        actor=actor,
        community_id=community.id,
        before=before,
        after=_snapshot(resident, household),
    )
    db.session.commit()
    return resident


def _snapshot(resident: Resident, household: Household) -> dict:
    return {
        "external_ref": resident.external_ref,
        "name": resident.name,
        "household": household.address,
        "birth_year": resident.birth_year,
        "residence_status": resident.residence_status,
        "eligible": resident.eligible,
    }


def get_resident(community, resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or resident.community_id != community.id:
        raise NotFound(_l("No such resident."))
    return resident


def is_eligible(resident: Resident, round_year: int) -> bool:
    """Whether ``resident`` may vote in a round of ``round_year`` (see the module docstring)."""
    return (
        bool(resident.eligible)
        and resident.residence_status in VOTING_STATUSES
        and resident.birth_year is not None
        and round_year - resident.birth_year >= MIN_VOTING_AGE
    )


def _eligible(community_id: int, round_year: int) -> tuple:
    """The conditions a resident meets to vote in a round of ``round_year``."""
    return (
        Resident.community_id == community_id,
        Resident.eligible.is_(True),
        Resident.residence_status.in_(VOTING_STATUSES),
        Resident.birth_year.is_not(None),
        Resident.birth_year <= round_year - MIN_VOTING_AGE,
    )


def eligible_residents_query(community_id: int, round_year: int):
    """A SELECT of the residents who may vote in a round of ``round_year`` (households loaded)."""
    return (
        db.select(Resident)
        .join(Household, Resident.household_id == Household.id)
        .options(contains_eager(Resident.household))
        .where(*_eligible(community_id, round_year))
    )


def eligible_counts(community_id: int, round_year: int) -> tuple[int, int]:
    """(residents, households) who may vote in a round of ``round_year``: one count in the
    database (the check-in desk asks after every scan)."""
    residents, households = db.session.execute(
        db.select(db.func.count(), db.func.count(Resident.household_id.distinct())).where(
            *_eligible(community_id, round_year)
        )
    ).one()
    return residents, households


def search_residents(community_id: int, query: str, *, limit: int = 50) -> list[Resident]:
    """Residents whose name, reference or address contains ``query`` (staff search)."""
    stmt = (
        db.select(Resident)
        .join(Household, Resident.household_id == Household.id)
        .where(Resident.community_id == community_id)
    )
    query = (query or "").strip()[:60]
    if query:
        like = f"%{query.replace('%', '').replace('_', '')}%"
        compact = "%" + "".join(ch for ch in query if ch not in "%_- ") + "%"
        stmt = stmt.where(
            db.or_(
                Resident.name.like(like),
                Resident.external_ref.like(like),
                Household.building.like(like),
                Household.room.like(like),
                (Household.building + Household.unit + Household.room).like(compact),
            )
        )
    stmt = stmt.options(contains_eager(Resident.household)).order_by(
        Household.building, Household.unit, Household.room, Resident.id
    )
    return list(db.session.scalars(stmt.limit(limit)))


def registry_counts(community_id: int) -> dict:
    residents = db.session.scalar(
        db.select(db.func.count(Resident.id)).filter_by(community_id=community_id)
    )
    households = db.session.scalar(
        db.select(db.func.count(Household.id)).filter_by(community_id=community_id)
    )
    return {"residents": residents or 0, "households": households or 0}


def buildings(community_id: int) -> list[str]:
    return list(
        db.session.scalars(
            db.select(Household.building)
            .filter_by(community_id=community_id)
            .distinct()
            .order_by(Household.building)
        )
    )
