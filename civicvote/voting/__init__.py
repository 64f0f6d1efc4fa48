"""Voting: the residents' voting pages, casting, receipts, paper ballots and the tally."""

from flask import Blueprint

from ..ballots.lifecycle import CLOSE_STEPS
from .sealing import close_step

bp = Blueprint("voting", __name__)

# Closing a ballot moves its sealed contents to the cast ballots (ballots/lifecycle.py).
if close_step not in CLOSE_STEPS:
    CLOSE_STEPS.append(close_step)

from . import nocookies  # noqa: E402, F401  (registers its hooks on bp)
