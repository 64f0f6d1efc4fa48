"""One transaction convention: services commit (or roll back) themselves; views never commit.

A view parses the request, calls one service and shows the outcome. When some services left the
commit to their views, a view that forgot it lost the change silently, and a service could not
be called from the command line, the API and a page alike. A view that meets a domain error
rolls back through ``viewhelpers.run_console_action`` (or the error handlers).
"""

import re

from tests.conftest import REPO

COMMIT = re.compile(r"db\.session\.commit\(")


def test_no_view_commits():
    found = [
        f"{path.relative_to(REPO).as_posix()}:{number}: {line.strip()}"
        for path in sorted((REPO / "civicvote").rglob("views.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if COMMIT.search(line)
    ]
    assert not found, "views call db.session.commit(); let the service commit:\n" + "\n".join(found)
