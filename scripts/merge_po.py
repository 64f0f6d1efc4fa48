"""A git merge driver for message catalogs: the union of both sides' messages.

Configured with:
  git config merge.pounion.driver "python scripts/merge_po.py %O %A %B"
and `*.po merge=pounion` in .gitattributes. Where both sides translate one message differently,
ours wins and the message is marked fuzzy so the catalog test flags it for a translator.
"""

import sys

from babel.messages.pofile import read_po, write_po


def _read(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def main(base_path: str, ours_path: str, theirs_path: str) -> int:
    ours, theirs = _read(ours_path), _read(theirs_path)
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        if mine is None:
            ours[message.id] = message
        elif not mine.string and message.string:
            mine.string = message.string
        elif message.string and mine.string != message.string:
            mine.flags.add("fuzzy")
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, width=100, sort_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
