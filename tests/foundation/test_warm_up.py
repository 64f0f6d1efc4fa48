"""A server process opens its database connections before its first request (app.warm_up)."""

import logging
import os

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


def test_a_process_forked_after_the_warm_up_does_not_share_its_connections(app):
    warm_up(app)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports how many connections its pool holds, then leaves
        os.write(write, str(db.engine.pool.checkedin()).encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"0"
    assert db.engine.pool.checkedin() == db.engine.pool.size()  # the parent keeps its own
