"""The same need form sent several times at once (a double tap on a slow network) to a real
gunicorn server makes one need, and every request is answered with that need's page."""

import http.cookiejar
import re
import sqlite3
import threading
import urllib.parse
import urllib.request

import pytest

from tests.servers import Server, civicvote, server_env


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("double-submit")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    running = Server(env, threads=8, log_path=instance / "server.log")
    running.database = instance / "civicvote.db"
    yield running
    running.stop()


def test_concurrent_double_submit_makes_one_need(server):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(server.url + "/c/fengqiao/needs/new").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "nonce": nonce, "title": "同时提交的需求", "category": ""}
    ).encode()
    barrier = threading.Barrier(6)
    answers = []

    def send():
        barrier.wait()
        try:
            opener.open(server.url + "/c/fengqiao/needs/new", data=body)
        except urllib.error.HTTPError as response:  # the 302, not followed
            answers.append((response.code, response.headers.get("Location")))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6
    assert {code for code, _ in answers} == {302}
    assert len({location for _, location in answers}) == 1
    with sqlite3.connect(server.database) as connection:
        count = connection.execute(
            "SELECT count(*) FROM needs WHERE title = ?", ("同时提交的需求",)
        ).fetchone()[0]
    assert count == 1
