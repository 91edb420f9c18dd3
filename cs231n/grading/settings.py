"""The grading settings, in one place: the traits of ``GradingSettings``.

Every setting of a grading run that the instructor chooses (the kernel's memory, CPU time and BLAS
threads, the notebook's time limit, the largest extra file of a submission, the sandbox, the kernel's
user, where reference records are kept) is a trait of this one class. They are set like any other
nbgrader option:

- in ``nbgrader_config.py`` (the course's, or any Jupyter configuration folder's)::

      c.GradingSettings.kernel_memory_mb = 4096

- on nbgrader's command line: ``nbgrader autograde a1 --GradingSettings.kernel_memory_mb=4096``;
- through ``python -m cs231n.grade``: its flags (``--memory-mb``, ``--notebook-timeout``, ...) become
  ``--GradingSettings.*`` options of every nbgrader run it starts (``command_line``).

Who reads them: nbgrader's converters (``RobustExecute``, the pre-convert hook), the grading kernel's
manager, which turns the kernel's limits into command-line arguments of the kernel launcher
(``cs231n.grading.kernel.limits``: the launcher reads no environment for them), and the class
coordinator (the isolation check, the reference runs), which loads the same configuration files as
nbgrader (``course_config``). Environment variables are left for what students and operators set by
hand (data locations, the data set; README.md lists them).
"""

from pathlib import Path

from traitlets import Bool, Integer, List, Unicode
from traitlets.config import Application, Config, Configurable

#: Defaults of the kernel launcher's limits (also the traits' defaults).
DEFAULT_MEMORY_MB = 6144
DEFAULT_CPU_SECONDS = 1800
DEFAULT_THREADS = 1
#: Largest file other than a notebook that a submission may carry into grading and feedback (MB).
DEFAULT_SUBMISSION_FILE_MB = 20


class GradingSettings(Configurable):
    """The grading settings of the course kit (configure as ``c.GradingSettings.<name>``)."""

    kernel_memory_mb = Integer(
        DEFAULT_MEMORY_MB, help="Address-space limit of each grading kernel in MB (0 = none): a submission that "
                                "allocates more gets a MemoryError in its own cell."
    ).tag(config=True)

    kernel_cpu_seconds = Integer(
        DEFAULT_CPU_SECONDS, help="CPU-time limit of each grading kernel in seconds (0 = none): the kernel is "
                                  "killed and the notebook graded as far as it ran."
    ).tag(config=True)

    kernel_threads = Integer(
        DEFAULT_THREADS, help="BLAS/OpenMP threads of each grading kernel (several kernels run side by side: "
                              "threads that spin against each other make a loaded machine crawl)."
    ).tag(config=True)

    notebook_timeout = Integer(
        0, help="Wall-time limit in seconds of one graded notebook, counted from its first code cell (0 = none); "
                "Execute.timeout bounds one cell. Reference runs of the instructor's solution have none."
    ).tag(config=True)

    submission_file_mb = Integer(
        DEFAULT_SUBMISSION_FILE_MB, help="Largest file other than a notebook (MB) that a submission may carry into "
                                         "grading and feedback; larger ones are kept aside."
    ).tag(config=True)

    sandbox = Bool(
        True, help="Isolate grading kernels (namespaces, read-only mounts, no network, an unprivileged user). "
                   "False runs them unisolated, for debugging only: then require_isolation must be False too."
    ).tag(config=True)

    sandbox_hide = List(
        Unicode(), help="More folders the grading kernel must not see (besides the course, the kit's clone, "
                        "the home folders, /tmp, the exchange); on the command line, one option per folder."
    ).tag(config=True)

    kernel_user = Unicode(
        "", help="The unprivileged user grading kernels run as when the grader runs as root (default: nobody)."
    ).tag(config=True)

    require_isolation = Bool(
        True, help="Refuse to grade where grading kernels cannot be fully isolated; False grades anyway and "
                   "records the isolation each submission had (cs231n.grade --allow-unisolated)."
    ).tag(config=True)

    reference_cache = Unicode(
        "", help="Folder of the reference records (default: <course>/.cs231n/reference); several copies of a "
                 "course may share one."
    ).tag(config=True)

    @classmethod
    def current(cls, course: Path | None = None) -> "GradingSettings":
        """The settings of the running nbgrader application (its configuration files and command line:
        what nbgrader's hooks go by, which are handed no configuration); where none runs (formgrader in
        a Jupyter server, a script), those of ``course``'s configuration (``course_config``), else the
        defaults."""
        app = Application.instance() if Application.initialized() else None
        if app is not None and hasattr(app, "coursedir"):
            return cls(config=app.config)
        return cls(config=course_config(course)) if course is not None else cls()

#: Environment variables that carried grading settings before they became traits: no longer read.
RETIRED_VARIABLES = {
    "CS231N_KERNEL_MEMORY_MB": "kernel_memory_mb", "CS231N_KERNEL_CPU_SECONDS": "kernel_cpu_seconds",
    "CS231N_KERNEL_THREADS": "kernel_threads", "CS231N_NOTEBOOK_SECONDS": "notebook_timeout",
    "CS231N_SUBMISSION_FILE_MB": "submission_file_mb", "CS231N_SANDBOX": "sandbox",
    "CS231N_SANDBOX_HIDE": "sandbox_hide", "CS231N_KERNEL_USER": "kernel_user",
    "CS231N_REFERENCE_CACHE": "reference_cache",
}


def retired_variables_note(environ: dict[str, str] | None = None) -> str | None:
    """A warning naming the retired variables set in ``environ`` (default: this process's) and the
    settings that replace them; None when none is set."""
    import os

    environ = os.environ if environ is None else environ
    found = [f"{name} (now c.GradingSettings.{trait})" for name, trait in RETIRED_VARIABLES.items() if name in environ]
    if not found:
        return None
    return ("these environment variables are no longer read, set the grading settings in nbgrader_config.py "
            "instead: " + ", ".join(found))


def command_line(values: dict[str, object]) -> list[str]:
    """``--GradingSettings.<name>=<value>`` options of nbgrader's command line for ``values``."""
    unknown = set(values) - set(GradingSettings.class_trait_names(config=True))
    if unknown:
        raise ValueError(f"not a grading setting: {', '.join(sorted(unknown))}")
    return [f"--GradingSettings.{name}={value}" for name, value in values.items()]


def course_config(course: Path, values: dict[str, object] | None = None) -> Config:
    """The configuration an nbgrader run in ``course`` loads (``nbgrader_config.py`` of every Jupyter
    configuration folder, then the course's), with the grading settings ``values`` on top, as
    ``command_line(values)`` sets them for nbgrader."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config = Config()
    for folder in [*reversed(jupyter_config_path()), str(Path(course).resolve())]:  # lowest priority first
        try:
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=folder).load_config())
        except ConfigFileNotFound:
            continue
    if values:
        command_line(values)  # the same check
        config.merge(Config({"GradingSettings": dict(values)}))
    return config
