"""Run nbgrader rounds on a copy of the course: generate, submit, autograde, feedback, gradebook.

Used by ``make demo`` (``python -m cs231n.grading.tools.demo``) and by the pipeline tests. Every step calls the real
nbgrader command line in the course folder, exactly as an instructor would.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..coordinator.gradebook import CellGrade, cell_grades, resolve_db_url
from ..coordinator.parallel import LocalPool, Options, grade_class, nbgrader_env
from ..judge.records import with_siblings
from .attack_submissions import Attack, load_attacks
from .simulate import SIMULATED_SUBMISSIONS, Mutant, fill_answers, load_mutants, read_nb, solution_sources, write_nb

COURSE_FILES = ("nbgrader_config.py",)


def repo_root() -> Path:
    """The course repository this package was installed from (it holds nbgrader_config.py)."""
    here = Path(__file__).resolve().parents[3]  # this is <repository>/cs231n/grading/tools/course.py
    if not (here / "nbgrader_config.py").exists():
        raise FileNotFoundError(f"no nbgrader_config.py in {here}: run from a clone of the course kit")
    return here


def assignments_with_notebooks(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("assignment*") if p.is_dir() and any(p.glob("*.ipynb")))


def prepare_course(root: Path, dest: Path, assignments: list[str], notebooks: list[str] | None = None) -> Path:
    """Copy the course's configuration, sources and grading material into a fresh folder ``dest``.

    ``notebooks`` (names without .ipynb) keeps only those notebooks of the assignments, and the
    sibling notebooks they load (they are needed to run them)."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in COURSE_FILES:
        shutil.copy2(root / name, dest / name)
    (dest / "source").mkdir()
    for a in assignments:
        shutil.copytree(root / a, dest / a, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        if notebooks:
            keep = with_siblings(dest / a, notebooks)
            for nb in (dest / a).glob("*.ipynb"):
                if nb.stem not in keep:
                    nb.unlink()
        (dest / "source" / a).symlink_to(Path("..") / a)
    if (root / SIMULATED_SUBMISSIONS).is_dir():
        shutil.copytree(root / SIMULATED_SUBMISSIONS, dest / SIMULATED_SUBMISSIONS)
    return dest


def nbgrader(course: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder (with the interpreter running this code)."""
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=timeout)


def generate(course: Path, assignment: str) -> None:
    res = nbgrader(course, "generate_assignment", assignment, "--force")
    if res.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{res.stdout}\n{res.stderr}")


def release_notebooks(course: Path, assignment: str) -> dict[str, dict]:
    return {p.stem: read_nb(p) for p in sorted((course / "release" / assignment).glob("*.ipynb"))}


def reference_answers(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    """notebook -> grade_id -> solved source, from the instructor's source notebooks."""
    return {p.stem: solution_sources(read_nb(p)) for p in sorted((course / assignment).glob("*.ipynb"))}


def submit(course: Path, assignment: str, student: str, notebooks: dict[str, dict]) -> None:
    """Place a student's notebooks where ``nbgrader collect`` would: submitted/<student>/<assignment>/."""
    folder = course / "submitted" / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    for name, nb in notebooks.items():
        write_nb(nb, folder / f"{name}.ipynb")
    (folder / "timestamp.txt").write_text("2026-01-15 12:00:00.000000 UTC\n")


@dataclass
class Student:
    """A simulated student: which mutants (classic bugs) they made; None = untouched release; or an
    attack (``cs231n.grading.tools.attack_submissions``) on one notebook, the reference answers in the
    others."""

    name: str
    mutants: list[Mutant] | None = field(default_factory=list)
    attack: Attack | None = None

    def notebooks(self, release: dict[str, dict], answers: dict[str, dict[str, str]]) -> dict[str, dict]:
        if self.mutants is None:
            return release
        if self.attack is not None:
            out = {nb_name: fill_answers(nb, answers.get(nb_name, {})) for nb_name, nb in release.items()}
            out.pop(self.attack.notebook, None)
            nb = self.attack.notebook_json(release[self.attack.notebook], answers[self.attack.notebook])
            out[self.attack.rename or self.attack.notebook] = nb
            return out
        out = {}
        for nb_name, nb in release.items():
            mine = answers.get(nb_name, {})
            for m in self.mutants:
                if m.notebook == nb_name:
                    mine = m.apply(mine)
            out[nb_name] = fill_answers(nb, mine)
        return out


def _mutated_notebooks(course: Path, assignment: str, only: list[str] | None) -> set[str]:
    present = {p.stem for p in (course / assignment).glob("*.ipynb")}
    return present if not only else present & set(only)


def mutant_students(course: Path, assignment: str, only: list[str] | None = None) -> list[Student]:
    """As few students as possible to cover every mutant and variant of the notebooks present in the
    course (or of the notebooks ``only``): student i makes the i-th change (classic bug, then correct
    variant) of every notebook."""
    present = _mutated_notebooks(course, assignment, only)
    per_nb: dict[str, list[Mutant]] = {}
    for m in load_mutants(course, assignment):
        if m.notebook in present:
            per_nb.setdefault(m.notebook, []).append(m)
    n = max((len(v) for v in per_nb.values()), default=0)
    return [Student(f"mutant{i + 1}", [ms[i] for ms in per_nb.values() if i < len(ms)]) for i in range(n)]


def demo_class(
    course: Path, assignment: str, all_mutants: bool = False, only: list[str] | None = None,
    with_attackers: bool = True,
) -> list[Student]:
    """A reference student, one who submits the untouched release, and students with classic bugs:
    one with the first bug of every notebook, or (all_mutants) enough students to make every bug and
    every correct variant (simulated_submissions/variants/); and (with_attackers) the DEMO_ATTACKS.
    ``only``: the bugs of these notebooks only (the others present are siblings they load)."""
    present = _mutated_notebooks(course, assignment, only)
    attackers = [Student(f"attacker_{a.name}", attack=a) for a in load_attacks(course, assignment)
                 if with_attackers and a.name in DEMO_ATTACKS and a.notebook in present]
    if all_mutants:
        return [Student("reference"), Student("untouched", None), *mutant_students(course, assignment, only),
                *attackers]
    first: dict[str, Mutant] = {}
    for m in load_mutants(course, assignment, folders=("mutants",)):
        if m.notebook in present:
            first.setdefault(m.notebook, m)
    return [Student("reference"), Student("untouched", None), Student("buggy", list(first.values())), *attackers]


#: Attacks (from simulated_submissions/attacks/) that the demo's class includes, one student each: they
#: must earn what the honest code behind them earns, and nothing for anyone else.
DEMO_ATTACKS = ("oracle_stack", "disk_pth")


def _label(m: Mutant) -> str:
    return m.name if m.kind == "mutant" else f"{m.kind} {m.name}"


def check_round(grades_by_student: dict[str, list[CellGrade]], students: list[Student]) -> list[str]:
    """What a round got wrong: the reference must get every autograded point, the untouched release
    none, every mutant must lose points in exactly the tests it names (one bug, one loss), and every
    variant (a correct implementation written another way) must keep every point."""
    problems = []
    for s in students:
        rows = [g for g in grades_by_student.get(s.name, []) if not g.manual]
        if not rows:
            problems.append(f"{s.name}: no grades recorded")
            continue
        lost = {g.grade_id for g in rows if g.auto_score != g.max_score}
        if s.attack is not None:
            mine = {g.grade_id: (g.auto_score or 0.0, g.max_score) for g in rows if g.notebook == s.attack.notebook}
            problems += s.attack.problems(mine, notes=True)
            continue
        if s.mutants is None:
            scored = sorted(g.grade_id for g in rows if g.auto_score)
            if scored:
                problems.append(f"untouched release scored points in {', '.join(scored)}")
            continue
        expected = {gid for m in s.mutants for gid in m.loses}
        label = s.name + (f" ({', '.join(_label(m) for m in s.mutants)})" if s.mutants else "")
        if lost - expected:
            problems.append(f"{label} also lost {', '.join(sorted(lost - expected))}")
        if expected - lost:
            problems.append(f"{label} kept points in {', '.join(sorted(expected - lost))}")
    return problems


def submit_class(course: Path, assignment: str, students: list[Student]) -> None:
    release, answers = release_notebooks(course, assignment), reference_answers(course, assignment)
    for s in students:
        submit(course, assignment, s.name, s.notebooks(release, answers))


def autograde_parallel(course: Path, assignment: str, workers: int = 2, progress=print):
    """Autograde every submitted student with ``workers`` nbgrader processes at once
    (``cs231n.grade``); returns its ClassReport."""
    pool = LocalPool(workers)
    try:
        return grade_class(course, assignment, Options(force=True, threads_per_kernel=max(1, (os.cpu_count() or 1)
                                                                                          // workers)),
                           pool, progress=lambda line: progress("  " + line))
    finally:
        pool.close()


def generate_feedback(course: Path, assignment: str) -> None:
    res = nbgrader(course, "generate_feedback", assignment, "--force")
    if res.returncode != 0:
        raise RuntimeError(f"nbgrader generate_feedback {assignment} failed:\n{res.stdout}\n{res.stderr}")


def grades(course: Path, assignment: str, db_url: str | None = None) -> dict[str, list[CellGrade]]:
    """student -> every grade cell's autograded score, read from the course's gradebook: the one at
    ``db_url`` if given, else the one the course's nbgrader configuration names
    (``CourseDirectory.db_url``; by default ``<course>/gradebook.db``)."""
    return cell_grades(resolve_db_url(course, db_url), assignment)


def score_table(all_grades: dict[str, dict[str, list[CellGrade]]]) -> str:
    """A student x notebook table of autograded points, "score/max"; manual points listed apart."""
    cols = sorted({(a, g.notebook) for a, per in all_grades.items() for rows in per.values() for g in rows})
    students = sorted({s for per in all_grades.values() for s in per})
    header = ["student"] + [f"{a}/{nb}" for a, nb in cols] + ["autograded total"]
    lines = [header]
    for s in students:
        row, tot, tot_max = [s], 0.0, 0.0
        for a, nb in cols:
            cells = [g for g in all_grades.get(a, {}).get(s, []) if g.notebook == nb and not g.manual]
            got = sum(g.auto_score or 0 for g in cells)
            mx = sum(g.max_score for g in cells)
            tot, tot_max = tot + got, tot_max + mx
            row.append(f"{got:g}/{mx:g}" if cells else "-")
        row.append(f"{tot:g}/{tot_max:g}")
        lines.append(row)
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)
