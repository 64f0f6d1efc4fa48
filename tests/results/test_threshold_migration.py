"""Migration 0008_rules merges the round's second threshold into the ballot's pass threshold."""

from flask_migrate import upgrade
from sqlalchemy import text

from civicvote import create_app
from civicvote.extensions import db
from tests.conftest import test_config


def test_the_round_threshold_moves_to_draft_ballots_and_greedy_threshold_becomes_greedy(
    tmp_path,
):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(test_config(url, tmp_path / "instance"))
    with app.app_context():
        upgrade(revision="0007_audit_trail")
        statements = [
            "INSERT INTO communities (id, slug, name, district, address, description, "
            "board_panel) VALUES (1, 'c', '社区', '', '', '', 'auto')",
            "INSERT INTO funding_rounds (id, community_id, name, year, description, phase, "
            "budget_fen, vote_unit, allocation_rule, approval_threshold_percent, tie_break, "
            "notice_days, required_documents, created_at) VALUES (1, 1, '2026', 2026, '', "
            "'review', 100, 'household', 'greedy-threshold', 30, 'cost', 7, '[]', "
            "'2026-01-01')",
        ]
        ballot = (
            "INSERT INTO ballots (id, round_id, title, method, mode, status, min_choices, "
            "quorum_kind, quorum_value, pass_threshold_percent, results_visible_live, "
            "opened_at, created_at) VALUES (:id, 1, 'b', 'approval', 'online', :status, 0, "
            "'minimum', 1, :p, 0, :opened, '2026-01-01')"
        )
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
            connection.execute(text(ballot), {"id": 1, "status": "draft", "p": 10, "opened": None})
            connection.execute(
                text(ballot), {"id": 2, "status": "open", "p": 10, "opened": "2026-02-01"}
            )
        upgrade()
        with db.engine.connect() as connection:
            rule = connection.execute(text("SELECT allocation_rule FROM funding_rounds")).scalar()
            thresholds = dict(
                connection.execute(text("SELECT id, pass_threshold_percent FROM ballots")).all()
            )
        db.engine.dispose()
    assert rule == "greedy"
    # "at least 30%" is "more than 29%" for the draft; the opened ballot keeps what its voters
    # were shown.
    assert thresholds == {1: 29, 2: 10}
