"""What a class grading round found, per submission and in all: progress lines and the final report
(text, CSV and JSON)."""

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class SubmissionResult:
    """What happened to one student's submission.

    status: "graded", "failed", "skipped" (unchanged since the last grading) or "not graded" (the run
    was interrupted first);
    problems: what needs the instructor's attention, each "<kind>: <detail>" with kind one of
    timeout, dead kernel, not graded (a notebook missing or unreadable), repaired, nbgrader error.
    """

    student: str
    status: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    attempts: int = 0
    log: str = ""
    worker: str = ""
    score: float | None = None
    max_score: float | None = None
    isolation: str = ""  # what the grading kernels had: "full", or "partial: <reason>" per notebook
    files: dict[str, bytes] | None = None  # shipped results: course-relative path -> content

    @property
    def needs_attention(self) -> bool:
        return self.status == "failed" or bool(self.problems)

    def as_row(self) -> dict:
        row = asdict(self)
        row.pop("log")
        row.pop("files")
        row["problems"] = "; ".join(self.problems)
        row["needs_attention"] = self.needs_attention
        return row


@dataclass
class ClassReport:
    """The outcome of a class grading round."""

    assignment: str
    results: list[SubmissionResult]
    seconds: float
    workers: int
    backend: str
    interrupted: bool = False

    @property
    def needs_attention(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.needs_attention]

    def counts(self) -> dict[str, int]:
        out = {"graded": 0, "failed": 0, "skipped": 0, "not graded": 0}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


COLUMNS = ["student", "status", "score", "max_score", "seconds", "attempts", "needs_attention", "problems", "isolation",
           "worker"]


def duration(seconds: float) -> str:
    """'42 s', '3 min 05 s' or '1 h 02 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_line(result: SubmissionResult, done: int, total: int, failures: int, elapsed: float) -> str:
    """One line per finished submission: count, outcome, failures so far and the estimated time left
    (elapsed time per finished submission times the submissions left; workers run side by side)."""
    eta = elapsed / done * (total - done) if done else 0.0
    outcome = result.status if not result.problems else f"{result.status} ({'; '.join(result.problems)})"
    return (f"[{done}/{total}] {result.student}: {outcome} in {result.seconds:.1f} s | "
            f"needing attention so far: {failures} | ETA {duration(eta)}")


def summary(report: ClassReport) -> str:
    """The final report as text: a table of every student, then totals and what needs attention."""
    rows = [["student", "status", "score", "seconds", "problems"]]
    for r in report.results:
        score = "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        secs = "-" if r.status == "skipped" else f"{r.seconds:.1f}"
        rows.append([r.student, r.status, score, secs, "; ".join(r.problems)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join([c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)] + [row[-1]]).rstrip()
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    counts = report.counts()
    graded = [r for r in report.results if r.status != "skipped"]
    rate = len(graded) / report.seconds * 60 if report.seconds > 0 and graded else 0.0
    mean = sum(r.seconds for r in graded) / len(graded) if graded else 0.0
    lines.append("")
    lines.append(f"{report.assignment}: {counts['graded']} graded, {counts['failed']} failed, "
                 f"{counts['skipped']} unchanged (skipped) in {duration(report.seconds)} with {report.workers} "
                 f"workers ({report.backend}); {rate:.1f} submissions/min, {mean:.1f} s per submission")
    attention = report.needs_attention
    if attention:
        lines.append(f"{len(attention)} need your attention: " + ", ".join(r.student for r in attention))
    else:
        lines.append("Nothing needs your attention.")
    return "\n".join(lines)


def report_path(folder: Path, assignment: str, suffix: str) -> Path:
    """Where the report of ``assignment`` goes: ``<folder>/grading_report_<assignment><suffix>``."""
    return Path(folder) / f"grading_report_{assignment}{suffix}"


def last_seconds(folder: Path, assignment: str) -> dict[str, float]:
    """student -> seconds their submission took to grade, from the last JSON report in ``folder``
    (graded students only); {} when there is no readable report."""
    try:
        rows = json.loads(report_path(folder, assignment, ".json").read_text())["students"]
        return {r["student"]: float(r["seconds"]) for r in rows if r.get("status") == "graded" and r.get("seconds")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_report(report: ClassReport, folder: Path) -> tuple[Path, Path]:
    """Write ``grading_report_<assignment>.csv`` and ``.json`` into ``folder`` (the course root, where
    ``nbgrader export`` writes grades.csv), and nbgrader's log of every submission that needs attention
    into ``grading_logs/<assignment>/<student>.log``. Returns the CSV and JSON paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for r in report.needs_attention:
        if r.log:
            log = folder / "grading_logs" / report.assignment / f"{r.student}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(r.log)
    json_path = report_path(folder, report.assignment, ".json")
    run = {
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(report.seconds, 2),
        "workers": report.workers,
        "backend": report.backend,
        "counts": report.counts(),
        "interrupted": report.interrupted,
        "graded": {r.student: {"status": r.status, "problems": r.problems}
                   for r in report.results if r.status != "skipped"},
    }
    current, history = merge_state(read_report(json_path), [r.as_row() for r in report.results])
    rows = sorted(current.values(), key=lambda row: row["student"])
    csv_path = report_path(folder, report.assignment, ".csv")
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    payload = {
        "assignment": report.assignment,
        **{k: run[k] for k in ("finished", "seconds", "workers", "backend", "counts")},
        "needs_attention": [row["student"] for row in rows if row.get("needs_attention")],
        "students": rows,
        "history": [*history, run],
    }
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n")
    tmp.replace(json_path)
    return csv_path, json_path


def read_report(path: Path) -> dict:
    """The JSON report at ``path`` ({} when there is none or it cannot be read)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def merge_state(previous: dict, rows: list[dict]) -> tuple[dict[str, dict], list[dict]]:
    """The class's current state after a run, and the earlier runs.

    A student graded (or failed) in this run gets this run's row; a student skipped (unchanged since the
    last grading) or not in this run keeps their last row, open problems included, until a later run
    grades them again. Returns (student -> row, the previous report's history).
    """
    current = {row["student"]: row for row in previous.get("students", [])
               if isinstance(row, dict) and "student" in row}
    for row in rows:
        if row["status"] == "skipped" and row["student"] in current:
            continue
        current[row["student"]] = row
    history = previous.get("history", [])
    if not history and previous.get("finished"):  # a report written before histories were kept
        history = [{k: previous.get(k) for k in ("finished", "seconds", "workers", "backend", "counts")}]
    return current, list(history)
