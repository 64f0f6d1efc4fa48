"""Regenerate the organizer's handbook screenshots in one command.

    python scripts/handbook_screenshots.py

runs the tests that photograph the handbook's pages (the end-to-end test of a whole round,
tests/e2e/test_whole_round.py, the role consoles and the enlarged-text ballot: Chromium against
real gunicorn servers on fresh SQLite databases), then copies every screenshot they took
(artifacts/screenshots/e2e-*.png, console-*.png, reflow-ballot-*.png) into docs/screenshots/,
as 256-colour optimised PNGs so the repository stays small. Pass ``--no-run`` to only copy the
screenshots of the last run.
Needs what the browser tests need: Chromium at /usr/bin/chromium and Noto CJK fonts.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "artifacts" / "screenshots"
TARGET = REPO / "docs" / "screenshots"
PATTERNS = ("e2e-*.png", "console-*.png", "reflow-ballot-*.png")


def optimise(source: Path, target: Path) -> int:
    """Write ``source`` as a palette PNG at ``target``; returns the new size in bytes."""
    with Image.open(source) as image:
        image = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        image.save(target, optimize=True)
    return target.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="only copy the last run's images")
    args = parser.parse_args(argv)
    if not args.no_run:
        for pattern in PATTERNS:
            for old in SOURCE.glob(pattern):
                old.unlink()
        tests = ["tests/e2e", "tests/browser/test_role_consoles.py", "tests/a11y/test_reflow.py"]
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", *tests], cwd=REPO)  # noqa: S603
        if result.returncode != 0:
            print("A screenshot test failed; docs/screenshots/ was left as it was.")
            return result.returncode
    shots = sorted(shot for pattern in PATTERNS for shot in SOURCE.glob(pattern))
    if not shots:
        print("No handbook screenshots under artifacts/screenshots/: run without --no-run.")
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for pattern in PATTERNS:
        for old in TARGET.glob(pattern):
            old.unlink()
    total = sum(optimise(shot, TARGET / shot.name) for shot in shots)
    print(f"{len(shots)} screenshots copied to {TARGET.relative_to(REPO)} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
