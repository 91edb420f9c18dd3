"""The demo grading round: ``make demo`` (``python -m cs231n.grading.tools.demo``).

Offline, on the embedded synthetic dataset (unless real CIFAR-10 is present): copies the course into
a scratch folder, generates every assignment that has notebooks, simulates a small class (a student
who submits the reference answers, one who submits the untouched release, one with a classic bug in
every notebook, and attackers: one whose functions copy expected values from the grader's call stack,
one who plants a .pth file to rig every later verdict), autogrades them with nbgrader, checks that the
attackers earn only what their honest code earns, generates feedback, and prints the gradebook.
"""

import argparse
import os
import time
from pathlib import Path

from ..coordinator.procs import without_noise
from . import course as C


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cs231n.grading.tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None,
                        help="scratch course folder (default: demo/ in the repository; wiped first)")
    parser.add_argument("--assignment", action="append", help="only these assignments (repeatable)")
    parser.add_argument("--notebook", action="append",
                        help="only these notebooks, name without .ipynb (repeatable); the sibling notebooks they load "
                             "are graded too, without classic bugs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of CPUs)")
    parser.add_argument("--check", action="store_true",
                        help="simulate every classic bug and verify the round: reference full marks, untouched "
                             "release zero, each bug loses points exactly where simulated_submissions/mutants/ says")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    root = C.repo_root()
    assignments = args.assignment or C.assignments_with_notebooks(root)
    if not assignments:
        print("demo: no assignment has notebooks yet.")
        return 1
    dest = args.dir or root / "demo"
    print(f"demo: grading round for {', '.join(assignments)} in {dest}")
    course = C.prepare_course(root, dest, assignments, args.notebook)
    assignments = C.assignments_with_notebooks(course)  # --notebook may leave some with none
    if not assignments:
        print(f"demo: no notebook named {', '.join(args.notebook or [])} in {', '.join(args.assignment or [])}.")
        return 1

    all_grades, failures, problems = {}, [], []
    for a in assignments:
        t = time.perf_counter()
        print(f"[{a}] generating the student release ...")
        C.generate(course, a)
        students = C.demo_class(course, a, all_mutants=args.check, only=args.notebook)
        C.submit_class(course, a, students)
        print(f"[{a}] simulated students: " + ", ".join(
            s.name + ("" if not s.mutants or s.attack else f" ({', '.join(m.name for m in s.mutants)})")
            for s in students))
        report = C.autograde_parallel(course, a, workers=args.workers)
        failures += [(a, r) for r in report.needs_attention]
        print(f"[{a}] generating feedback ...")
        C.generate_feedback(course, a)
        all_grades[a] = C.grades(course, a)
        if args.check:
            problems += [f"{a}: {p}" for p in C.check_round(all_grades[a], students)]
        attackers = [s for s in students if s.attack is not None]
        if attackers:
            caught = C.check_round(all_grades[a], attackers)
            problems += [f"{a}: {p}" for p in caught]
            print(f"[{a}] attackers ({', '.join(s.name for s in attackers)}): " + (
                "each earned exactly what the honest code behind the attack earns" if not caught
                else "PROBLEMS: " + "; ".join(caught)))
        print(f"[{a}] done in {time.perf_counter() - t:.1f} s")

    print("\nGradebook (autograded points; inline questions await manual grading):\n")
    print(C.score_table(all_grades))
    print(f"\nFeedback: {course / 'feedback'}   Gradebook: {course / 'gradebook.db'}")
    print(f"Formgrader: cd {course} && jupyter lab   (then Nbgrader > Formgrader)")
    for a, r in failures:
        print(f"warning: {r.student} in {a} needs attention: {'; '.join(r.problems) or r.status}\n"
              f"{without_noise(r.log)[-2000:]}")
    if args.check:
        print("\nCheck: " + ("all as expected." if not problems else "PROBLEMS:\n  " + "\n  ".join(problems)))
    print(f"Total time: {time.perf_counter() - start:.1f} s")
    return 1 if failures or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
