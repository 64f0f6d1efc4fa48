"""What each open data file is, and its columns, in the reader's language.

The files keep their field names where programs read them: the JSON export and the API never
change. A CSV file is for people opening it in a spreadsheet: in Chinese its header row names
each column in Chinese and its coded values (a status, a channel, a rule, yes/no) read as words;
in English it keeps the field names and codes of the JSON export, as it always did.
docs/open-data.md says the same for the people who use the files.
"""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..ballots import forms as ballot_forms
from ..ballots import models as ballots
from ..intake.models import CHANNEL_LABELS, NEED_STATUS_LABELS
from ..proposals.models import STATUS_LABELS as PROPOSAL_STATUS_LABELS
from ..rounds import models as rounds

# Each export: what it is (its name in the list), and what a row of it holds.
EXPORT_LABELS = {
    "needs": (_l("Residents' needs"), _l("Every need residents raised: status and support.")),
    "proposals": (
        _l("Costed proposals"),
        _l("Every proposal as reviewed: cost, line items, milestones, reviews."),
    ),
    "fund_sources": (
        _l("Fund sources"),
        _l("Each source of money: its amount, what the result assigns, what is spent."),
    ),
    "ballots": (_l("Ballots"), _l("Each ballot: how residents voted and on which proposals.")),
    "results": (_l("Vote counts"), _l("The votes each proposal received in each closed ballot.")),
    "allocation": (
        _l("Funding result"),
        _l("Each proposal's place, votes and funding in the latest result."),
    ),
    "milestones": (_l("Milestones"), _l("The milestones of funded projects: planned and reached.")),
    "progress": (_l("Progress reports"), _l("What implementers reported on funded projects.")),
    "spending": (_l("Spending"), _l("Every payment of funded projects, and to whom.")),
    "ratings": (
        _l("Residents' ratings"),
        _l("Residents' ratings of finished projects, by building."),
    ),
}

_ID = _l("Record number")
_PROPOSAL = _l("Proposal number")
_TITLE = _l("Title")
_STATUS = _l("Status")
_VOTES = _l("Votes")

# The Chinese (translated) header of each column; money is in fen, as in the JSON.
COLUMN_LABELS = {
    "id": _ID,
    "round_id": _l("Round number"),
    "ballot_id": _l("Ballot number"),
    "proposal_id": _PROPOSAL,
    "run_id": _l("Result number"),
    "line_item_id": _l("Line item number"),
    "fund_source_id": _l("Fund source number"),
    "title": _TITLE,
    "description": _l("Description"),
    "category": _l("Category"),
    "place": _l("Place"),
    "channel": _l("How it was submitted"),
    "status": _STATUS,
    "decline_reason": _l("Reason for declining"),
    "merged_into": _l("Merged into need number"),
    "supports": _l("Residents supporting"),
    "created_at": _l("Time (UTC)"),
    "organization": _l("Organization"),
    "version": _l("Version"),
    "summary": _l("Summary"),
    "location": _l("Location"),
    "beneficiaries_count": _l("Beneficiaries"),
    "beneficiaries_desc": _l("Who benefits"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "implementer": _l("Implementer"),
    "total_fen": _l("Total (fen)"),
    "line_items": _l("Line items"),
    "milestones": _l("Milestones"),
    "need_ids": _l("Needs answered (numbers)"),
    "documents": _l("Documents"),
    "automatic_checks": _l("Automatic checks"),
    "rejection_reason": _l("Reason for rejection"),
    "reviews": _l("Reviews"),
    "name": _l("Name"),
    "kind": _l("Kind"),
    "amount_fen": _l("Amount (fen)"),
    "used_fen": _l("Assigned by the result (fen)"),
    "left_fen": _l("Left (fen)"),
    "spent_fen": _l("Spent (fen)"),
    "method": _l("Voting method"),
    "mode": _l("Where people vote"),
    "proposal_ids": _l("Proposals (numbers)"),
    "votes": _VOTES,
    "no_votes": _l("No votes"),
    "ballots_cast": _l("Ballots cast"),
    "rule": _l("Allocation rule"),
    "tie_break": _l("Tie-break"),
    "rank": _l("Place"),
    "funded": _l("Funded"),
    "reason": _l("Why"),
    "funding_by_source": _l("Funding by source (fen)"),
    "spent_on": _l("Date paid"),
    "item": _l("What"),
    "payee": _l("Paid to"),
    "over_budget": _l("Over budget"),
    "approved": _l("Approved by the committee"),
    "planned_date": _l("Planned for"),
    "actual_date": _l("Reached on"),
    "signed_off": _l("Confirmed by the committee"),
    "comment": _l("Comment"),
    "text": _l("Report"),
    "percent_complete": _l("Progress (%)"),
    "building": _l("Building"),
    "count": _l("Number of ratings"),
    "average": _l("Average rating"),
}

RUN_STATUS_LABELS = {"provisional": _l("Provisional"), "final": _l("Final")}
REASON_LABELS = {
    "funded": _l("Funded"),
    "did_not_fit": _l("Not funded: not enough money left"),
    "below_threshold": _l("Not funded: below the pass threshold"),
    "not_reached": _l("Not funded: the rule stopped at a proposal that did not fit"),
    "no_support": _l("Not funded: no votes"),
    "not_affordable": _l("Not funded: its supporters' equal shares could not pay for it"),
    "tie_broken_by": _l("Decided by the tie-break"),
}

# The labels of coded values, per export and column.
VALUE_LABELS = {
    "needs": {"status": NEED_STATUS_LABELS, "channel": CHANNEL_LABELS},
    "proposals": {"status": PROPOSAL_STATUS_LABELS},
    "fund_sources": {"kind": rounds.SOURCE_KIND_LABELS},
    "ballots": {
        "method": ballots.METHOD_LABELS,
        "mode": ballot_forms.MODE_LABELS,
        "status": ballots.STATUS_LABELS,
    },
    "allocation": {
        "status": RUN_STATUS_LABELS,
        "rule": rounds.RULE_LABELS,
        "tie_break": rounds.TIE_LABELS,
        "reason": REASON_LABELS,
    },
}


def export_label(table: str) -> tuple[str, str]:
    """An export's name and what it holds, in the reader's language."""
    name, holds = EXPORT_LABELS[table]
    return str(name), str(holds)


def in_words() -> bool:
    """Whether CSV files are written for the reader's language (Chinese) rather than with the
    field names and codes of the JSON export (English)."""
    locale = get_locale()
    return locale is not None and locale.language != "en"


def header(column: str) -> str:
    """A column's header: its Chinese name in Chinese, its field name otherwise."""
    label = COLUMN_LABELS.get(column)
    return str(label) if label is not None and in_words() else column


def readable_rows(table: str, rows: list[dict], categories: dict) -> list[dict]:
    """Rows whose coded values read as words (Chinese CSV): labels for codes, yes/no for flags,
    the round's category names for category codes. The rows given are left as they are."""
    if not in_words():
        return rows
    vocabulary = dict(VALUE_LABELS.get(table, {}), category=categories)
    readable = []
    for row in rows:
        shown = {}
        for key, value in row.items():
            if isinstance(value, bool):
                value = _("yes") if value else _("no")
            elif isinstance(value, str) and value in vocabulary.get(key, {}):
                value = str(vocabulary[key][value])
            shown[key] = value
        readable.append(shown)
    return readable
