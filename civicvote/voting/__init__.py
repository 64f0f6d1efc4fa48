"""Voting: the residents' voting pages, casting, receipts, paper ballots and the tally."""

from flask import Blueprint

bp = Blueprint("voting", __name__)
