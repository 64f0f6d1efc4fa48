"""A real server for the secrecy tests that need a browser."""

import pytest

from civicvote import create_app
from civicvote.extensions import db
from tests import factories
from tests.conftest import test_config
from tests.servers import SERVER_SECRET, Server, civicvote, server_env


@pytest.fixture(scope="module")
def shared_phone_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("shared-phone")
    env = server_env(instance)
    civicvote(["db", "upgrade"], env)
    config = test_config(env["CIVICVOTE_DATABASE_URL"], instance / "local")
    app = create_app({**config, "SECRET_KEY": SERVER_SECRET})
    with app.app_context():
        ballot = factories.ballot(title="居民议事会投票")
        tokens = [factories.credential(ballot)[1] for _ in range(8)]
        data = {"ballot": ballot.id, "tokens": tokens}
        db.session.remove()
        db.engine.dispose()
    server = Server(env, log_path=instance / "server.log")
    data["url"] = server.url
    data["app"] = app
    yield data
    server.stop()
