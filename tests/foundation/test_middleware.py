"""The WSGI layers in front of Flask (app.register_middleware): the proxy handling and the two
fast paths, each checked against the view it stands in for."""

import functools

import pytest
from flask import Blueprint, Flask, request

from civicvote import create_app
from civicvote.api.fastpath import VoteFastPath
from civicvote.app import check_fast_path_route
from civicvote.board.fastpath import LiveFastPath
from civicvote.config import BadSetting, load_config
from civicvote.extensions import db, limiter
from tests import factories
from tests.conftest import test_config

# What Flask would run for each fast path's view and the fast path does not, one by one, with
# why that is right. A hook or limit added to the app or to the view's blueprint fails
# test_the_fast_paths_skip_only_what_they_list: decide then whether the fast path must do it
# too (and do it there), or may skip it (and say why here).
SKIPPED_OR_REDONE = {
    VoteFastPath: {
        "before_request": {
            "flask_wtf.csrf:CSRFProtect.init_app.<locals>.csrf_protect": (
                "skipped: the api blueprint is exempt from CSRF (credentials come in the body)"
            ),
            "flask_limiter._extension:Limiter._check_request_limit": (
                "skipped: no Flask-Limiter limit applies to api.vote (see the limits below); "
                "the vote's own limits (ratelimit.refuse_credential) are applied by "
                "cast_from_api, the same step in the fast path and the view"
            ),
            "civicvote.api:preflight": "skipped: it answers OPTIONS only, the fast path POST",
            "civicvote.security:refuse_control_characters": (
                "re-done: read_vote refuses control characters in the idempotency key, the "
                "credential has a fixed shape and the choices are numbers or fixed answers"
            ),
        },
        "url_value_preprocessors": {
            "civicvote.api:bounded_ids": "re-done: ids above MAX_ID go on to Flask (404)",
        },
        "after_request": {
            "partial(flask_limiter._extension:Limiter.__inject_headers)": (
                "skipped: RATELIMIT_HEADERS_ENABLED is off (config.py)"
            ),
            "flask_login.login_manager:LoginManager._update_remember_cookie": (
                "skipped: the API has no session (app.CookieSessions)"
            ),
            "civicvote.security:set_security_headers": (
                "re-done: fixed_security_headers are sent (HSTS included with secure cookies)"
            ),
            "civicvote.api:open_data_headers": "skipped: it acts on GET, HEAD and OPTIONS only",
        },
        "teardown_request": {
            "flask_limiter._extension:Limiter.__release_context": (
                "skipped: no Flask-Limiter context is opened (no Flask-Limiter limit applies)"
            ),
        },
    },
    LiveFastPath: {
        # Only a 200 or 304 that Flask produced for the same request (path, query, cookies,
        # languages) and the current snapshot is replayed, headers included; never one that
        # sets a cookie. So after_request hooks are replayed; before_request hooks are skipped:
        "before_request": {
            "flask_wtf.csrf:CSRFProtect.init_app.<locals>.csrf_protect": (
                "skipped: CSRF protects POST, PUT, PATCH and DELETE, not GET"
            ),
            "flask_limiter._extension:Limiter._check_request_limit": (
                "skipped: no Flask-Limiter limit applies to board.live (see the limits below)"
            ),
            "civicvote.security:refuse_control_characters": (
                "skipped: only answers Flask made (after this check) are replayed"
            ),
        },
        "url_value_preprocessors": {},
        "after_request": {
            "partial(flask_limiter._extension:Limiter.__inject_headers)": (
                "replayed: the headers of the answer Flask made (none: headers are off)"
            ),
            "flask_login.login_manager:LoginManager._update_remember_cookie": (
                "replayed: an answer setting a cookie is never stored"
            ),
            "civicvote.security:set_security_headers": "replayed: the headers Flask set",
        },
        "teardown_request": {
            "flask_limiter._extension:Limiter.__release_context": (
                "skipped: no Flask-Limiter context is opened (no Flask-Limiter limit applies)"
            ),
        },
    },
}


def _name(hook) -> str:
    if isinstance(hook, functools.partial):
        return f"partial({_name(hook.func)})"
    return f"{hook.__module__}:{hook.__qualname__}"


def _hooks_for(app: Flask, endpoint: str) -> dict[str, set[str]]:
    """The hooks Flask runs for a request to ``endpoint``: the app's and its blueprint's."""
    scopes = (None, endpoint.rpartition(".")[0])
    registries = {
        "before_request": app.before_request_funcs,
        "url_value_preprocessors": app.url_value_preprocessors,
        "after_request": app.after_request_funcs,
        "teardown_request": app.teardown_request_funcs,
    }
    return {
        kind: {_name(hook) for scope in scopes for hook in registry.get(scope, ())}
        for kind, registry in registries.items()
    }


@pytest.mark.parametrize("fast_path", [VoteFastPath, LiveFastPath], ids=lambda f: f.__name__)
def test_the_fast_paths_skip_only_what_they_list(sqlite_app, fast_path):
    app = sqlite_app
    listed = {kind: set(hooks) for kind, hooks in SKIPPED_OR_REDONE[fast_path].items()}
    assert _hooks_for(app, fast_path.ENDPOINT) == listed
    with app.test_request_context():
        defaults, decorated = limiter.limit_manager.resolve_limits(
            app, fast_path.ENDPOINT, fast_path.ENDPOINT.rpartition(".")[0]
        )
        assert list(limiter.limit_manager.application_limits) == []
        assert (defaults, decorated) == ([], [])


def test_both_fast_paths_stand_in_front_of_flask(sqlite_app):
    assert isinstance(sqlite_app.wsgi_app, VoteFastPath)
    assert isinstance(sqlite_app.wsgi_app.wsgi_app, LiveFastPath)


@pytest.mark.parametrize("fast_path", [VoteFastPath, LiveFastPath], ids=lambda f: f.__name__)
def test_a_fast_path_whose_view_moved_stops_the_start(fast_path):
    """The view's route changed (a v2 prefix): the fast path would no longer see its requests
    (or see others'), so the app refuses to start."""
    moved = Flask("moved")
    area, _, view = fast_path.ENDPOINT.partition(".")
    blueprint = Blueprint(area, __name__)
    blueprint.add_url_rule(
        "/v2/<int:ballot_id>/votes" if area == "api" else "/v2/<slug>/live",
        view,
        lambda **kwargs: "",
        methods=[fast_path.METHOD],
    )
    moved.register_blueprint(blueprint)
    with pytest.raises(RuntimeError, match="no longer stands in for its view"):
        check_fast_path_route(moved, fast_path)


def test_a_fast_path_for_another_method_stops_the_start(sqlite_app):
    class PutVotes(VoteFastPath):
        METHOD = "PUT"

    with pytest.raises(RuntimeError, match="has no single PUT route"):
        check_fast_path_route(sqlite_app, PutVotes)


def test_a_fast_path_taking_other_paths_stops_the_start(sqlite_app):
    class Elsewhere(LiveFastPath):
        @staticmethod
        def route_arguments(path):
            return None

    with pytest.raises(RuntimeError, match="does not take /c/a-community/board/live"):
        check_fast_path_route(sqlite_app, Elsewhere)


# --------------------------------------------------------------------------- proxies


@pytest.fixture
def behind(app, tmp_path):
    """``behind(hops)``: the test app's database behind ``hops`` proxies, with a page that
    shows the client address and scheme the app sees."""
    made = []

    def make(hops: int):
        config = test_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "proxied")
        proxied = create_app({**config, "PROXY_HOPS": hops, "RATELIMIT_LOGIN": "2/minute"})

        @proxied.get("/test-client-seen")
        def seen():
            return {"address": request.remote_addr, "scheme": request.scheme}

        made.append(proxied)
        return proxied.test_client()

    yield make
    for proxied in made:
        with proxied.app_context():
            db.engine.dispose()


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def test_behind_one_proxy_the_app_sees_the_client(behind):
    client = behind(1)
    seen = client.get("/test-client-seen", headers=FORWARDED).get_json()
    assert seen == {"address": "203.0.113.7", "scheme": "https"}


def test_without_proxies_forwarded_headers_are_not_believed(behind):
    client = behind(0)
    seen = client.get("/test-client-seen", headers=FORWARDED).get_json()
    assert seen == {"address": "127.0.0.1", "scheme": "http"}


def test_only_the_hops_configured_are_believed(behind):
    """Two proxies: the address the second proxy appended is the client; the one before it
    came from the client's own header, and may be forged."""
    client = behind(2)
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 192.0.2.10"}
    assert client.get("/test-client-seen", headers=headers).get_json()["address"] == "203.0.113.7"


@pytest.mark.parametrize("hops, other_client_status", [(1, 302), (0, 429)])
def test_login_limits_see_the_client_behind_the_proxy(behind, hops, other_client_status):
    """Guesses are limited per account and address: behind a proxy, each client's own (one
    client's guessing does not lock out the clerk elsewhere), unless no proxy is configured."""
    factories.user("clerk")
    stranger, clerk = behind(hops), behind(hops)
    stranger.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    clerk.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.8"
    guesses = [factories.login(stranger, "clerk", "wrong guess").status_code for _ in range(3)]
    assert guesses == [401, 401, 429]
    assert factories.login(clerk, "clerk").status_code == other_client_status


@pytest.mark.parametrize("value", ["6", "-1", "one", "1.5"])
def test_proxy_hops_outside_0_to_5_are_refused(monkeypatch, tmp_path, value):
    monkeypatch.setenv("CIVICVOTE_PROXY_HOPS", value)
    with pytest.raises(BadSetting, match="CIVICVOTE_PROXY_HOPS"):
        load_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})
