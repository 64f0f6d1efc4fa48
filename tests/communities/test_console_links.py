"""Every link on each role's console, and every link on the pages those reach, opens: none
answers 403, 404 or 500 to the person it was shown to (issue 17: a clerk was shown needs that
then answered 403). Runs on both databases over the busy community."""

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from tests import factories
from tests.communities.busy import busy_community

ROLES = ("organizer", "reviewer", "clerk", "supervisor", "member", "several")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.found.append(href)


def links_of(html: str) -> list[str]:
    """The site's own addresses linked from a page (no other sites, no fragments)."""
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.found:
        href = urldefrag(href).url
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        found.append(href)
    return list(dict.fromkeys(found))


@pytest.fixture
def busy(app):
    with app.test_request_context():
        yield busy_community()


def _visit(client, url: str) -> tuple[int, str]:
    answer = client.get(url, follow_redirects=True)  # where a redirect leads must open too
    body = answer.get_data(as_text=True) if answer.mimetype == "text/html" else ""
    return answer.status_code, body


@pytest.mark.parametrize("role", ROLES)
def test_every_link_of_a_console_and_its_task_pages_opens(client, busy, role):
    place, staff, _facts = busy
    factories.login(client, staff[role].username)
    console = f"/console/c/{place.slug}"
    status, page = _visit(client, console)
    assert status == 200
    task_pages = [u for u in links_of(page) if u.startswith("/console/c/")]
    assert len(task_pages) >= 3, task_pages  # the console does link this role's work
    seen, broken = {console}, []
    for url in links_of(page):
        seen.add(url)
        status, body = _visit(client, url)
        if status in (403, 404) or status >= 500:
            broken.append((console, url, status))
        if url in task_pages and status == 200:
            for deeper in links_of(body):
                if deeper in seen or deeper == "/logout":
                    continue
                seen.add(deeper)
                status, _ = _visit(client, deeper)
                if status in (403, 404) or status >= 500:
                    broken.append((url, deeper, status))
    assert broken == [], f"{role}: links that fail (page, link, status): {broken}"
    assert len(seen) > len(task_pages)


def test_a_clerk_sent_back_from_the_need_form_lands_on_the_console(client, busy):
    place, staff, _facts = busy  # this year's round votes: no needs are collected
    factories.login(client, staff["clerk"].username)
    answer = client.get(f"/console/c/{place.slug}/needs/new")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/console/c/{place.slug}")
    assert client.get(answer.headers["Location"]).status_code == 200
