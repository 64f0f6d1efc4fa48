"""Locate the top-level resource folders (templates, static, translations, migrations).

In a source checkout they sit beside the package; in an installed wheel they are packed inside it.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder called ``name``, preferring the copy packed inside the wheel."""
    packed = PACKAGE_DIR / name
    if packed.is_dir():
        return packed
    return PACKAGE_DIR.parent / name
