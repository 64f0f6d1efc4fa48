"""A server process opens its database connections before its first request (app.warm_up)."""

import logging

from civicvote import create_app
from civicvote.app import warm_up
from civicvote.extensions import db


def test_the_pool_is_open_and_the_vote_read_compiled_before_the_first_request(app):
    db.session.remove()
    db.engine.dispose()
    warm_up(app)
    pool = db.engine.pool
    assert pool.checkedout() == 0
    assert pool.checkedin() == pool.size() >= 5


def test_an_unreachable_database_does_not_stop_the_start(tmp_path, caplog):
    unreachable = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "test",
        }
    )
    with caplog.at_level(logging.WARNING):
        warm_up(unreachable)
    assert "Warming up the database connections failed" in caplog.text
    assert unreachable.test_client().get("/healthz").status_code == 200
