from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PABULIB = REPO.parent / "shared" / "pabulib"
PB_FILES = sorted(PABULIB.glob("*.pb")) if PABULIB.is_dir() else []


@pytest.fixture
def pabulib_dir() -> Path:
    if not PABULIB.is_dir():
        pytest.skip(f"real Pabulib files not found at {PABULIB} (shared/pabulib next to the repo)")
    return PABULIB
