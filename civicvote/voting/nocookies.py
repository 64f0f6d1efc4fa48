"""Browsers that keep no cookies (some in-app browsers) get a page that says what to do.

A voting link or a typed code is exchanged for an entry in the session cookie, then the
browser is sent to the ballot with ``?opened=1``. A ballot opened that way without any cookie
means the browser dropped it: instead of "scan the QR code on your card" (which they just did),
it says to open the page in the phone's browser or go to the desk. The code form's CSRF check
fails the same way (see main/errors.py), and shows the same page.
"""

from urllib.parse import urlsplit, urlunsplit

from flask import render_template, request

from . import bp

MARK = "opened=1"
EXCHANGES = ("voting.landing", "voting.enter_code", "voting.ballot_code")


def cookies_blocked() -> bool:
    """True when the request carries no cookie at all (not even the session's)."""
    return not request.cookies


def no_cookies_page(status: int = 400):
    """The page for a browser that keeps no cookies: what to do instead."""
    return render_template("voting/no_cookies.html"), status


@bp.after_request
def mark_exchange(response):
    if request.endpoint in EXCHANGES and response.status_code in (302, 303):
        parts = urlsplit(response.location)
        query = f"{parts.query}&{MARK}" if parts.query else MARK
        response.location = urlunsplit(
            (parts.scheme, parts.netloc, parts.path, query, parts.fragment)
        )
    return response


@bp.before_request
def catch_dropped_cookie():
    if (
        request.endpoint == "voting.vote"
        and request.method == "GET"
        and request.query_string.decode().endswith(MARK)
        and cookies_blocked()
    ):
        return no_cookies_page()
    return None
