"""Every message in code and templates is in the zh_Hans catalog, translated, and compiled."""

import subprocess
import sys

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO

CATALOG = REPO / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
COMPILED = CATALOG.with_suffix(".mo")


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle)


def test_zh_hans_catalog_is_complete():
    untranslated, fuzzy = [], []
    for message in _catalog():
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == []
    assert fuzzy == []


def test_catalog_covers_every_extracted_message(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_ngettext:1,2",
            "--no-location",
            "-o",
            str(template),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    known = {m.id for m in _catalog() if m.id}
    assert sorted(extracted - known, key=str) == []


def test_babel_config_points_at_existing_folders():
    for line in (REPO / "babel.cfg").read_text().splitlines():
        if line.startswith("[") and ":" in line:
            pattern = line.split(":", 1)[1].strip(" ]")
            folder = pattern.split("/")[0]
            assert (REPO / folder).is_dir(), f"babel.cfg names a missing folder: {folder}"


def _key(value):
    """Plural messages (ngettext) are lists in a compiled catalog, tuples in a source one."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_source():
    with COMPILED.open("rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    source = {_key(m.id): _key(m.string) for m in _catalog() if m.id and m.string}
    assert compiled == source, "run `civicvote translations compile`"
