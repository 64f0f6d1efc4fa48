"""Static files for 2G (issue 18): versioned URLs, cached a year, gzipped, revalidated cheaply."""

import gzip
import os
import re

import pytest


@pytest.fixture
def static_client(sqlite_app):
    return sqlite_app.test_client()


def _page_assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_versioned_static_files(static_client):
    assets = _page_assets(static_client.get("/login").get_data(as_text=True))
    assert assets
    assert all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in assets), assets


def test_versioned_file_is_immutable_and_gzipped(static_client):
    url = next(
        u for u in _page_assets(static_client.get("/login").get_data(as_text=True)) if ".css" in u
    )
    plain = static_client.get(url)
    zipped = static_client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.status_code == 200
    assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["X-Content-Type-Options"] == "nosniff"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    assert "Content-Encoding" not in plain.headers


def test_unversioned_or_stale_url_revalidates(static_client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = static_client.get(url)
        assert response.headers["Cache-Control"] == "no-cache"
        again = static_client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        assert again.data == b""


@pytest.mark.parametrize("path", ["/static/nope.css", "/static/../civicvote/app.py"])
def test_missing_or_outside_files_are_not_found(static_client, path):
    assert static_client.get(path).status_code == 404


def test_a_changed_file_gets_a_new_url(sqlite_app, tmp_path):
    from civicvote.staticfiles import StaticFiles

    (tmp_path / "a.js").write_text("var a = 1;")
    files = StaticFiles(tmp_path)
    first = files.version("a.js")
    (tmp_path / "a.js").write_text("var a = 2;")
    os.utime(tmp_path / "a.js", (1, 1))
    assert files.version("a.js") not in (None, first)
