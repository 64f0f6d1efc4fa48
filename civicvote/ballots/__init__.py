"""Ballots: the organizer's ballot console and the residents' voting pages."""

from flask import Blueprint

bp = Blueprint("ballots", __name__)


@bp.record_once
def _redact_dev_server_log(_state) -> None:
    from .redact import install_werkzeug_filter

    install_werkzeug_filter()
