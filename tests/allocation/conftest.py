from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PABULIB = REPO.parent / "shared" / "pabulib"
PB_FILES = sorted(PABULIB.glob("*.pb")) if PABULIB.is_dir() else []


def pytest_collection_modifyitems(items):
    """Under CI the real elections must be there: a silent skip would hide the replay tests."""
    from tests.conftest import IN_CI

    if IN_CI and not PB_FILES:
        raise pytest.UsageError(f"CI must replay the real Pabulib files, but none are at {PABULIB}")


@pytest.fixture
def pabulib_dir() -> Path:
    if not PABULIB.is_dir():
        pytest.skip(f"real Pabulib files not found at {PABULIB} (shared/pabulib next to the repo)")
    return PABULIB


@pytest.fixture
def without_cost_bounds(monkeypatch):
    """add1's walk as it was before runs vouched by bounding what outcomes cost (no leaps, and
    no run vouching that way): for tests of what the walk does where no such bound holds."""
    from civicvote.allocation import add1

    monkeypatch.setattr(add1, "FIRST_LEAP", 0)
    monkeypatch.setattr(add1._Walk, "fit_between", lambda _walk, _trace: False)
