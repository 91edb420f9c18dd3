"""One bug, one loss: coverage of the graded functions by classic bugs and correct variants, and the
rates measured in real nbgrader rounds.

    python benchmarks/one_bug_one_loss.py coverage                 # every graded answer cell, its mutants
    python benchmarks/one_bug_one_loss.py measure --notebook knn   # grade knn's mutants and variants
    python benchmarks/one_bug_one_loss.py measure --assignment assignment2   # every notebook, one by one
    python benchmarks/one_bug_one_loss.py report [--write]         # aggregate, optionally into RESULTS.md

A *graded answer cell* is a code cell with nbgrader ``solution=True, grade=False``; its *own tests* are
the autograded test cells that follow it, up to the next answer cell. ``simulated_submissions/mutants/``
holds classic bugs (``loses``: the tests that must fail) and ``simulated_submissions/variants/`` correct
implementations written another way (``loses`` empty, ``"kind": "variant"``).

``measure`` runs one nbgrader round per notebook (its siblings are copied and graded without changes),
with the reference student, the untouched release and one student per mutant or variant, exactly as
``python -m cs231n.grading.tools.demo --check --notebook X`` does, and saves each notebook's outcome as JSON in
``--results``. ``report`` reads those files. Rates:

- a mutant is *exact* when the tests it lost are exactly the ones it names, and *own only* when it lost
  points, and only in the own tests of the cell it mutates (the strict form of one bug, one loss);
- a variant *keeps every point* when it loses no autograded point anywhere.
"""

import argparse
import datetime
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cs231n.grading.tools import course as C
from cs231n.grading.tools.simulate import Mutant, load_mutants, read_nb
from cs231n.notebook_cells import grade_id, kind

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("assignment1", "assignment2", "assignment3")
HEADING = "## One bug, one loss"
DEFAULT_WORK = Path("/tmp/one_bug_one_loss")


@dataclass
class AnswerCell:
    """A graded answer cell and the autograded tests that follow it."""

    assignment: str
    notebook: str
    cell: str
    tests: list[str]


def answer_cells(root: Path, assignment: str, notebook: str) -> list[AnswerCell]:
    """The graded (code, autograded) answer cells of a source notebook, in order, with their own tests.

    Inputs:
    - root: the course repository; assignment, notebook: names (notebook without .ipynb).
    Returns:
    - list of AnswerCell; tests placed before the first answer cell are dropped.
    """
    out: list[AnswerCell] = []
    for cell in read_nb(root / assignment / f"{notebook}.ipynb")["cells"]:
        if cell["cell_type"] != "code":
            continue
        if kind(cell) == "answer":
            out.append(AnswerCell(assignment, notebook, grade_id(cell), []))
        elif kind(cell) == "test" and out:
            out[-1].tests.append(grade_id(cell))
    return out


def notebooks(root: Path, assignment: str) -> list[str]:
    return sorted(p.stem for p in (root / assignment).glob("*.ipynb"))


def coverage(root: Path, assignments: list[str]) -> tuple[list[tuple[AnswerCell, list[Mutant], list[Mutant]]], str]:
    """Every graded answer cell with the mutants and variants that change it.

    Returns:
    - rows: (cell, mutants, variants) per graded answer cell;
    - text: a printable table and summary.
    """
    rows = []
    for a in assignments:
        changes = load_mutants(root, a)
        for nb in notebooks(root, a):
            for cell in answer_cells(root, a, nb):
                mine = [m for m in changes if m.notebook == nb and m.cell == cell.cell]
                rows.append((cell, [m for m in mine if m.kind == "mutant"], [m for m in mine if m.kind != "mutant"]))
    lines = [f"{'assignment/notebook':34} {'graded answer cell':30} mutants variants"]
    for cell, muts, vars_ in rows:
        flag = "" if muts else "   <- no mutant"
        lines.append(f"{cell.assignment + '/' + cell.notebook:34} {cell.cell:30} {len(muts):7} {len(vars_):8}{flag}")
    covered = sum(1 for _, m, _ in rows if m)
    nbs = {(c.assignment, c.notebook) for c, _, _ in rows}
    with_var = {(c.assignment, c.notebook) for c, _, v in rows if v}
    lines.append(f"\n{covered}/{len(rows)} graded answer cells have at least one mutant; "
                 f"{len(with_var)}/{len(nbs)} notebooks have at least one variant; "
                 f"{sum(len(m) for _, m, _ in rows)} mutants, {sum(len(v) for _, _, v in rows)} variants.")
    return rows, "\n".join(lines)


def measure_notebook(root: Path, assignment: str, notebook: str, work: Path, workers: int) -> dict:
    """One nbgrader round of a notebook's mutants and variants (siblings graded unchanged).

    Returns:
    - dict with the notebook, the round's seconds, reference/untouched problems, and per change: name,
      kind, cell, loses (declared), lost (measured grade_ids) and own (the own tests of its cell).
    """
    tic, load_before = time.perf_counter(), os.getloadavg()[0]
    course = C.prepare_course(root, work / f"{assignment}-{notebook}", [assignment], [notebook])
    C.generate(course, assignment)
    students = C.demo_class(course, assignment, all_mutants=True, only=[notebook])
    C.submit_class(course, assignment, students)
    report = C.autograde_parallel(course, assignment, workers=workers, progress=lambda line: None)
    grades = C.grades(course, assignment)
    own = {c.cell: c.tests for c in answer_cells(root, assignment, notebook)}
    problems = C.check_round({s.name: grades.get(s.name, []) for s in students[:2]}, students[:2])
    changes = []
    for s in students[2:]:
        rows = [g for g in grades.get(s.name, []) if not g.manual]
        lost = sorted({g.grade_id for g in rows if g.auto_score != g.max_score})
        for m in s.mutants or []:
            changes.append({"name": m.name, "kind": m.kind, "cell": m.cell, "loses": list(m.loses), "lost": lost,
                            "own": own.get(m.cell, []), "graded": bool(rows)})
    return {"assignment": assignment, "notebook": notebook, "seconds": round(time.perf_counter() - tic, 1),
            "problems": problems, "needs_attention": [r.student for r in report.needs_attention],
            "changes": changes, "date": datetime.date.today().isoformat(), "load": [load_before, os.getloadavg()[0]]}


def verdict(change: dict) -> tuple[bool, bool]:
    """(exact as declared, lost only in its own tests) for a mutant; (kept every point, same) for a variant."""
    lost, loses, own = set(change["lost"]), set(change["loses"]), set(change["own"])
    if not change["graded"]:
        return False, False
    if change["kind"] != "mutant":
        return not lost, not lost
    return lost == loses, bool(lost) and lost <= own


def load_results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]


def report_table(results: list[dict], all_notebooks: list[tuple[str, str]]) -> str:
    """A Markdown table: per notebook, mutants exact / own-only, variants kept, round time; then the rates."""
    lines = ["| notebook | mutants exact as declared | mutants losing only in their own tests | "
             "variants keeping every point | round (s) | load |", "|---|---|---|---|---|---|"]
    tot = {"m": 0, "exact": 0, "own": 0, "v": 0, "kept": 0}
    misses, coupled = [], []
    measured = {(r["assignment"], r["notebook"]): r for r in results}
    for a, nb in all_notebooks:
        r = measured.get((a, nb))
        if r is None:
            lines.append(f"| {a}/{nb} | not measured | | | | |")
            continue
        muts = [c for c in r["changes"] if c["kind"] == "mutant"]
        vars_ = [c for c in r["changes"] if c["kind"] != "mutant"]
        exact = sum(verdict(c)[0] for c in muts)
        own = sum(verdict(c)[1] for c in muts)
        kept = sum(verdict(c)[0] for c in vars_)
        tot["m"] += len(muts)
        tot["exact"] += exact
        tot["own"] += own
        tot["v"] += len(vars_)
        tot["kept"] += kept
        for c in muts:
            outside = sorted(set(c["lost"]) - set(c["own"]))
            if verdict(c)[0] and outside:
                coupled.append(f"{c['name']} (also {', '.join(outside)}, as declared)")
        for c in r["changes"]:
            if not verdict(c)[0]:
                extra = sorted(set(c["lost"]) - set(c["loses"]))
                missing = sorted(set(c["loses"]) - set(c["lost"]))
                misses.append(f"{nb}: {c['kind']} {c['name']}" + (f" also lost {', '.join(extra)}" if extra else "")
                              + (f" kept {', '.join(missing)}" if missing else "")
                              + ("" if c["graded"] else " (not graded)"))
        note = "" if not r["problems"] else " (round problems: " + "; ".join(r["problems"]) + ")"
        lines.append(f"| {a}/{nb} | {exact}/{len(muts)} | {own}/{len(muts)} | "
                     f"{kept}/{len(vars_) if vars_ else 0} | {r['seconds']:.0f}{note} | {_load_range(r)} |")

    def rate(k: int, n: int) -> str:
        return f"{k}/{n} = {100 * k / n:.0f}%" if n else "n/a"

    lines += ["", f"- Mutants losing points exactly in the tests they name: {rate(tot['exact'], tot['m'])}; "
                  f"losing points only in the own tests of the function they mutate: {rate(tot['own'], tot['m'])}.",
              f"- Variants (correct, written another way) keeping every autograded point: "
              f"{rate(tot['kept'], tot['v'])}."]
    if coupled:
        lines += ["- Declared losses outside the mutated function's own tests: " + "; ".join(coupled) + "."]
    if misses:
        lines += ["- Not as expected: " + "; ".join(misses) + "."]
    return "\n".join(lines)


def _load_range(result: dict) -> str:
    """The 1-min load averages sampled at the start and end of a round, as "a-b"."""
    loads = result["load"] if isinstance(result["load"], list) else [result["load"]]
    return f"{min(loads):.1f}-{max(loads):.1f}"


def write_results(table: str, results: list[dict], coverage_line: str,
                  path: Path = ROOT / "docs" / "RESULTS.md") -> None:
    """Append (or replace) the section under HEADING at the end of RESULTS.md, re-reading the file first."""
    dates = sorted({r["date"] for r in results})
    loads = [x for r in results for x in (r["load"] if isinstance(r["load"], list) else [r["load"]])]
    body = (f"{HEADING}\n\nMeasured with `python benchmarks/one_bug_one_loss.py measure` (one nbgrader round per "
            f"notebook, siblings graded unchanged, synthetic data, autograde budgets) on 2 vCPUs (see PERF.md), "
            f"{', '.join(dates)}. Round times are wall-clock and depend on the machine's load (the 1-min load "
            f"average sampled at the start and end of each round, {min(loads):.1f}-{max(loads):.1f} over all "
            f"rounds, is in the last column; our own round accounts for about 2).\n\n"
            f"{coverage_line}\n\n{table}\n")
    text = path.read_text()
    if HEADING in text:
        head, _, rest = text.partition(HEADING)
        nxt = rest.find("\n## ")
        text = head + body + (rest[nxt + 1:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["coverage", "measure", "report"])
    parser.add_argument("--assignment", action="append", help="only these assignments (repeatable)")
    parser.add_argument("--notebook", action="append", help="only these notebooks (repeatable)")
    parser.add_argument("--results", type=Path, default=DEFAULT_WORK / "results", help="JSON outcomes folder")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK / "courses", help="scratch course folders")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write", action="store_true", help="report: write the section into docs/RESULTS.md")
    args = parser.parse_args(argv)

    assignments = args.assignment or list(ASSIGNMENTS)
    rows, text = coverage(ROOT, assignments)
    pairs = [(a, nb) for a in assignments for nb in notebooks(ROOT, a) if not args.notebook or nb in args.notebook]
    if args.command == "coverage":
        print(text)
        return 0 if all(m for _, m, _ in rows) else 1
    if args.command == "measure":
        args.results.mkdir(parents=True, exist_ok=True)
        for a, nb in pairs:
            print(f"[{a}/{nb}] grading its mutants and variants ...", flush=True)
            res = measure_notebook(ROOT, a, nb, args.work, args.workers)
            (args.results / f"{a}-{nb}.json").write_text(json.dumps(res, indent=1) + "\n")
            print(report_table([res], [(a, nb)]), flush=True)
        return 0
    results = [r for r in load_results(args.results) if r["assignment"] in assignments]
    table = report_table(results, pairs)
    print(table)
    if args.write:
        write_results(table, results, text.splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
