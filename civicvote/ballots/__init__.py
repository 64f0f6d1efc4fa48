"""Ballots: what is voted on and how (setup, rules, status), and the organizer's ballot console."""

from flask import Blueprint

bp = Blueprint("ballots", __name__)
