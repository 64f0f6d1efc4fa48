"""Voting: the residents' voting pages, casting, receipts, paper ballots and the tally."""

from flask import Blueprint

from ..ballots.lifecycle import on_close
from .sealing import close_step

bp = Blueprint("voting", __name__)

# Closing a ballot moves its sealed contents to the cast ballots (ballots/lifecycle.py).
on_close(close_step, stage="seal")

from . import nocookies  # noqa: E402, F401  (registers its hooks on bp)
