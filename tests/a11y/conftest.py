"""What the accessibility tests share: axe-core, from the repository's node_modules."""

import pytest

from tests.conftest import IN_CI
from tests.servers import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if IN_CI:
            pytest.fail("axe-core is missing: run `npm ci` at the repository root")
        pytest.skip("axe-core is missing: run `npm ci` at the repository root")
    return AXE.read_text()
