"""Regenerate the organizer's handbook screenshots in one command.

    python scripts/handbook_screenshots.py

runs the end-to-end test of a whole round (tests/e2e/test_whole_round.py: Chromium against a
real gunicorn server on a fresh SQLite database), then copies every screenshot it took
(artifacts/screenshots/e2e-*.png) into docs/screenshots/, as 256-colour optimised PNGs so the
repository stays small. Pass ``--no-run`` to only copy the screenshots of the last run.
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
        for old in SOURCE.glob("e2e-*.png"):
            old.unlink()
        result = subprocess.run([sys.executable, "-m", "pytest", "tests/e2e", "-q"], cwd=REPO)
        if result.returncode != 0:
            print("The end-to-end test failed; docs/screenshots/ was left as it was.")
            return result.returncode
    shots = sorted(SOURCE.glob("e2e-*.png"))
    if not shots:
        print("No e2e screenshots under artifacts/screenshots/: run without --no-run.")
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for old in TARGET.glob("e2e-*.png"):
        old.unlink()
    total = sum(optimise(shot, TARGET / shot.name) for shot in shots)
    print(f"{len(shots)} screenshots copied to {TARGET.relative_to(REPO)} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
