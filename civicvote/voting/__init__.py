"""Voting: the residents' voting pages, casting, receipts, paper ballots and the tally."""

from flask import Blueprint

bp = Blueprint("voting", __name__)

from . import nocookies  # noqa: E402, F401  (registers its hooks on bp)
