"""Grade every attack submission of simulated_submissions/attacks/<assignment>.py in one real round; tabulate.

    python benchmarks/attack_round.py [--assignment assignment1] [--workers 2] [--write]

One course folder gets the reference, an untouched release graded after everyone (the victim) and one
student per attack; ``cs231n.grade autograde`` grades them. The table lists, per attack, the points of
the tests its honest code fails (must be 0), of the tests its honest code passes (must be full), whether
the grader left a review note, and the verdict. ``--write`` puts the table into docs/GRADING_SECURITY.md
between the markers ``<!-- attacks:begin -->`` and ``<!-- attacks:end -->``. tests/test_tamper.py
asserts the same outcomes; this script records them for the documentation.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cs231n.grading.tools import course as C
from cs231n.grading.tools.attack_submissions import load_attacks

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "GRADING_SECURITY.md"
BEGIN, END = "<!-- attacks:begin -->", "<!-- attacks:end -->"
VICTIM = "zz_victim"


def review_noted(nb_path: Path) -> bool:
    if not nb_path.exists():
        return False
    nb = json.loads(nb_path.read_text())
    return any("".join(o.get("text", "")).startswith("[grading] this cell")
               for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "stream")


def points(scores: dict, ids: list[str]) -> tuple[float, float]:
    got = sum((scores.get(g, (0.0, 0.0))[0] or 0.0) for g in ids)
    return got, sum((scores.get(g, (0.0, 0.0))[1] or 0.0) for g in ids)


def run(assignment: str, workers: int) -> tuple[list[str], dict]:
    attacks = load_attacks(ROOT, assignment)
    folder = Path(tempfile.mkdtemp(prefix="cs231n-attacks-"))
    course = C.prepare_course(ROOT, folder / "course", [assignment], sorted({a.notebook for a in attacks}))
    C.generate(course, assignment)
    release, reference = C.release_notebooks(course, assignment), C.reference_answers(course, assignment)
    C.submit_class(course, assignment, [C.Student("reference"), C.Student(VICTIM, None)])
    for attack in attacks:
        nb = attack.notebook_json(release[attack.notebook], reference[attack.notebook])
        C.submit(course, assignment, attack.name, {attack.rename or attack.notebook: nb})
    tic = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", assignment, "--course", str(course),
                          "--workers", str(workers), "--quiet"], capture_output=True, text=True, cwd=course,
                         env=C.nbgrader_env())
    seconds = time.perf_counter() - tic
    grades = C.grades(course, assignment)
    rows = ["| attack | what it does | points of the tests its honest code fails | points of the tests it "
            "passes | review note | verdict |", "|---|---|---|---|---|---|"]
    failed = 0
    for attack in attacks:
        scores = {g.grade_id: (g.auto_score or 0.0, g.max_score)
                  for g in grades.get(attack.name, []) if g.notebook == attack.notebook and not g.manual}
        noted = review_noted(course / "autograded" / attack.name / assignment / f"{attack.notebook}.ipynb")
        lost, keep = points(scores, attack.loses), points(scores, attack.keeps)
        wrong = attack.problems(scores, noted)
        failed += bool(wrong)
        rows.append(f"| `{attack.name}` | {attack.description} | {lost[0]:g} / {lost[1]:g} | "
                    f"{keep[0]:g} / {keep[1]:g} | {'yes' if noted else 'no'} | "
                    f"{'as it should' if not wrong else '; '.join(wrong)} |")
    ref = [g for g in grades.get("reference", []) if not g.manual]
    victim = [g for g in grades.get(VICTIM, []) if not g.manual]
    summary = {
        "assignment": assignment, "attacks": len(attacks), "wrong": failed, "seconds": round(seconds, 1),
        "reference": f"{sum(g.auto_score or 0 for g in ref):g} / {sum(g.max_score for g in ref):g}",
        "victim": f"{sum(g.auto_score or 0 for g in victim):g} / {sum(g.max_score for g in victim):g}",
        "exit": res.returncode,
    }
    return rows, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="assignment1")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the table into docs/GRADING_SECURITY.md")
    args = parser.parse_args()
    rows, s = run(args.assignment, args.workers)
    text = "\n".join([
        f"Measured {time.strftime('%Y-%m-%d')} with `python benchmarks/attack_round.py --write`: {s['attacks']} "
        f"attack submissions on {s['assignment']}, the reference and an untouched release graded last "
        f"(`{VICTIM}`), in one `cs231n.grade autograde --workers 2` round of {s['seconds']:g} s. The reference "
        f"scored {s['reference']}, the untouched release {s['victim']}; attacks with an outcome other than "
        f"the expected one: {s['wrong']}.", "", *rows])
    print(text)
    if args.write:
        doc = DOC.read_text()
        if BEGIN not in doc:
            raise SystemExit(f"{DOC} has no {BEGIN} marker")
        DOC.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{text}\n{END}", doc,
                              flags=re.S))
    return 1 if s["wrong"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
