"""civicvote uses SQLAlchemy and Werkzeug through their public API only.

A name beginning with an underscore is a library's private business: it may change or vanish in
any release. This test reads every module under civicvote/ and fails on an import of such a name
(``from sqlalchemy.engine._row import ...``, ``from werkzeug.x import _y``) and on any attribute
``._name`` that SQLAlchemy or Werkzeug defines privately (``connection._handle_dbapi_exception``),
unless civicvote defines that name itself or the library documents it as public.
"""

import ast
import importlib
import re
from pathlib import Path

from tests.conftest import REPO

LIBRARIES = ("sqlalchemy", "werkzeug")
# Underscore names the libraries document as public API (the underscore avoids clashes with
# column names, or marks a proxy's own method).
DOCUMENTED = {
    "_asdict",  # sqlalchemy.engine.Row
    "_fields",  # sqlalchemy.engine.Row
    "_mapping",  # sqlalchemy.engine.Row
    "_t",  # sqlalchemy.engine.Row
    "_tuple",  # sqlalchemy.engine.Row
    "_get_current_object",  # werkzeug.local.LocalProxy (flask.current_app, current_user)
}
DEFINED = re.compile(
    r"(?:\bdef|\bclass)\s+(_[A-Za-z]\w*)"  # def _name / class _Name
    r"|^\s*(?:self\.|cls\.)?(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=(?!=)",  # _name = / self._name =
    re.MULTILINE,
)


def private_names(library: str) -> set[str]:
    """Every underscore name the library defines: functions, classes, attributes, modules."""
    root = Path(importlib.import_module(library).__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        if path.stem.startswith("_") and not path.stem.startswith("__"):
            names.add(path.stem)
        for match in DEFINED.finditer(path.read_text(encoding="utf-8", errors="replace")):
            names.add(match.group(1) or match.group(2))
    return {name for name in names if not name.startswith("__")}


def own_names(modules: dict[Path, ast.Module]) -> set[str]:
    """The underscore names civicvote defines itself (its privates are not this test's)."""
    names = set()
    for tree in modules.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.id if isinstance(node, ast.Name) else node.attr)
    return names


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def uses_of_private_names(package: Path) -> list[str]:
    """``path:line: what`` for each use of a private SQLAlchemy or Werkzeug name."""
    modules = {path: ast.parse(path.read_text(encoding="utf-8")) for path in package.rglob("*.py")}
    theirs = set().union(*(private_names(library) for library in LIBRARIES))
    suspects = theirs - own_names(modules) - DOCUMENTED
    found = []
    for path, tree in sorted(modules.items()):
        where = path.relative_to(package.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules_named = [alias.name for alias in node.names]
                if isinstance(node, ast.ImportFrom):
                    if node.level or not node.module:
                        continue
                    modules_named = [node.module] + [
                        f"{node.module}.{alias.name}" for alias in node.names
                    ]
                for dotted in modules_named:
                    parts = dotted.split(".")
                    if parts[0] in LIBRARIES and any(_is_private(part) for part in parts[1:]):
                        found.append(f"{where}:{node.lineno}: imports {dotted}")
            elif isinstance(node, ast.Attribute) and node.attr in suspects:
                found.append(f"{where}:{node.lineno}: uses .{node.attr}")
    return found


def test_civicvote_uses_no_private_sqlalchemy_or_werkzeug_names():
    assert uses_of_private_names(REPO / "civicvote") == []


def test_the_check_finds_a_private_name(tmp_path):
    """The check itself works: the old vote path's calls are found."""
    package = tmp_path / "civicvote"
    package.mkdir()
    (package / "casting.py").write_text(
        "from sqlalchemy.engine._row_cy import BaseRow\n"
        "from werkzeug.datastructures import _CacheControl\n"
        "def fetch(connection, cursor, error, sql, values):\n"
        "    connection._handle_dbapi_exception(error, sql, values, cursor, None)\n"
        "    return connection.execute(sql).first()._asdict()\n"
    )
    assert uses_of_private_names(package) == [
        "civicvote/casting.py:1: imports sqlalchemy.engine._row_cy",
        "civicvote/casting.py:1: imports sqlalchemy.engine._row_cy.BaseRow",
        "civicvote/casting.py:2: imports werkzeug.datastructures._CacheControl",
        "civicvote/casting.py:4: uses ._handle_dbapi_exception",
    ]
