"""Allocation rules for participatory budgeting: pure functions over plain values.

No Flask, no database: the web app builds :class:`Project`, :class:`Votes` and
:class:`FundSource` values, calls :func:`allocate`, and stores or renders the
:class:`Outcome`. Pabulib import/export lives in :mod:`civicvote.allocation.pabulib`.
"""

from civicvote.allocation.flow import Funds, MaxFlow, payable
from civicvote.allocation.model import (
    FundSource,
    Outcome,
    Project,
    ProjectResult,
    Reason,
    Threshold,
    Votes,
)
from civicvote.allocation.rules import COMPLETIONS, RULES, allocate
from civicvote.allocation.tiebreak import TieBreak

__all__ = [
    "COMPLETIONS",
    "RULES",
    "FundSource",
    "Funds",
    "MaxFlow",
    "Outcome",
    "Project",
    "ProjectResult",
    "Reason",
    "Threshold",
    "TieBreak",
    "Votes",
    "allocate",
    "payable",
]
