"""CSV cells that a spreadsheet will not run: every CSV the app writes goes through here.

Text from residents (the anonymous need form) and from the registry ends up in exports and
card files that organizers open in Excel or WPS. A cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is taken there as a formula (``=HYPERLINK(...)``,
``=cmd|...``); prefixed with an apostrophe it is shown as the text it is. Numbers are not
text and are written as they are.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` with an apostrophe in front when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose every cell passes through :func:`safe_cell`."""

    def __init__(self, handle, **options):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def safe_dict_rows(rows, columns: list[str]):
    """Rows for ``csv.writer``: the header, then each mapping's values in ``columns`` order,
    every cell neutralised."""
    yield [safe_cell(name) for name in columns]
    for row in rows:
        yield [safe_cell(row.get(name, "")) for name in columns]
