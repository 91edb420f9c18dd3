"""Copy a few screenshots of the browser test into docs/img/ for the guides, as small palette PNGs.

    .venv/bin/pytest -q tests/test_browser.py       # writes tests/artifacts/browser/
    .venv/bin/python tests/browser/docs_images.py   # -> docs/img/*.png (each well under 200 KB)
"""

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
DEST = ROOT / "docs" / "img"

# docs/img name -> screenshot of the browser test (folder/NN-step, without the number)
IMAGES = {
    "student-assignments-tab.png": "student/assignments-tab",
    "student-not-attempted.png": "student/run-all-stops-at-first-todo",
    "student-check-passes.png": "student/visible-check-passes",
    "student-validate.png": "student/validate-result",
    "instructor-formgrader-assignments.png": "instructor/formgrader-assignments",
    "instructor-formgrader-submissions.png": "instructor/formgrader-submissions",
    "instructor-manual-grading.png": "instructor/formgrader-manual-grading",
    "instructor-feedback.png": "instructor/feedback-page",
}


def find_shot(step: str) -> Path:
    """The screenshot ``folder/NN-name.png`` of a step given as ``folder/name``."""
    folder, name = step.split("/")
    matches = sorted((ARTIFACTS / folder).glob(f"[0-9][0-9]-{name}.png"))
    if not matches:
        raise FileNotFoundError(f"no screenshot {step} in {ARTIFACTS}: run tests/test_browser.py first")
    return matches[-1]


def small_png(src: Path, dest: Path, colors: int = 64) -> int:
    """Save ``src`` as a palette PNG with ``colors`` colours at ``dest``; returns its size in bytes."""
    image = Image.open(src).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    image.save(dest, optimize=True)
    return dest.stat().st_size


def main() -> int:
    DEST.mkdir(parents=True, exist_ok=True)
    for name, step in IMAGES.items():
        size = small_png(find_shot(step), DEST / name)
        print(f"{DEST / name}: {size / 1000:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
