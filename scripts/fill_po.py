"""Fill msgstr values in a catalog from a JSON mapping {msgid: msgstr} (a translator's aid).

Usage: python scripts/fill_po.py translations/zh_Hans/LC_MESSAGES/messages.po mapping.json
Entries already translated are kept unless the mapping names them.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, mapping_path: str) -> None:
    with open(po_path, "rb") as handle:
        catalog = read_po(handle)
    with open(mapping_path, encoding="utf-8") as handle:
        mapping = json.load(handle)
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in mapping:
            value = mapping[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else value
            message.flags.discard("fuzzy")
    with open(po_path, "wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{len(missing)} untranslated")
    for item in missing:
        print("  ", item)


if __name__ == "__main__":
    main(*sys.argv[1:3])
