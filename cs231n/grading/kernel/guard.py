"""The grading kernel: an IPython kernel that runs the instructor's cells out of the students' reach.

During autograding, student code and the instructor's tests share one Python process. A student's
answer cell could therefore try to make a failing test pass without fixing the code: patch
``np.allclose`` or ``cs231n.checks``, rebind ``rel_error`` or ``abs``, install an IPython input
transformer that rewrites later cells to ``pass``, swallow exceptions with ``set_custom_exc``,
``sys.excepthook`` or event callbacks, and so on.

``GuardedKernel`` is started instead of the stock kernel (``python -m cs231n.grading.kernel.guard -f
CONNECTION_FILE``, see ``LimitedKernelManager``). ``RobustExecute`` tells it the role of each cell in
the execute request's metadata (``{"cs231n": {"role": "test" | "given" | "student", "nonce": ...}}``);
the roles come from nbgrader's cell metadata after nbgrader has restored the locked cells, so a
student cannot choose them. Before every instructor cell (given code or test) the kernel

- restores the attributes of NumPy, ``cs231n`` and a few standard modules, the builtins, and the
  classes of the kernel machinery from a snapshot taken before any student code ran;
- resets IPython's input and AST transformers, custom exception handlers and ``sys`` hooks
  (``excepthook``, ``displayhook``, ``settrace``, ``setprofile``, ``stdout``/``stderr``);
- puts back the names that instructor cells bound to modules, functions and classes (``np``,
  ``checks``, ``rel_error``, the given classes) if a student cell rebound them, and hides student
  variables that shadow a builtin (``abs = ...``) while the test runs.

A *test* cell is then compiled and executed by the kernel itself, not by IPython's ``run_cell``: no
transformer, event callback or custom exception handler is involved. If the test raises nothing and
the protected modules are still intact afterwards, the kernel publishes a *proof*: a display output of
type ``PROOF_MIME`` carrying the nonce the executor chose for this cell. ``RobustExecute`` fails every
test cell without its proof. What was restored is reported in the proof, so the instructor sees it.

Limits (see docs/GRADING_SECURITY.md): this is defence in one process. Code that runs *during* a test
(the student's functions the test calls) can still, with enough effort aimed at this kernel, reach the
kernel's own objects; the executor's nonce check and the static scan of answer cells make such attacks
visible rather than impossible.
"""

import ast
import builtins
import importlib
import json
import sys
import threading
import types

from ipykernel.ipkernel import IPythonKernel

from ..outcomes import PROOF_MIME

#: Modules imported and snapshotted when the kernel starts, before any notebook code runs.
PROTECTED_MODULES = (
    "builtins", "numpy", "numpy.linalg", "numpy.testing", "numpy.random", "numpy.lib", "math",
    "cs231n", "cs231n.checks", "cs231n.gradient_check", "traceback", "inspect", "ast",
    "IPython.core.inputtransformer2", "IPython.core.interactiveshell", "ipykernel.zmqshell",
    "ipykernel.kernelbase", "ipykernel.ipkernel", "ipykernel.iostream", "jupyter_client.session",
)
#: Packages whose modules imported later are snapshotted the first time an instructor cell sees them.
PROTECTED_PACKAGES = ("numpy", "cs231n")

_MISSING = object()


class TamperDetected(AssertionError):
    """A protected module or builtin changed while a test ran."""


def _protected_name(name: str) -> bool:
    return name in PROTECTED_MODULES or any(name == p or name.startswith(p + ".") for p in PROTECTED_PACKAGES)


def bound_names(source: str) -> set[str]:
    """Top-level names a cell binds (imports, definitions, assignments).

    Inputs:
    - source: the cell's source, IPython magics allowed (a cell that does not parse binds nothing).

    Returns:
    - the set of names.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))  # magics become plain calls
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*"}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n for t in targets for n in _target_names(t)}
    return names


def _target_names(target: ast.expr) -> set[str]:
    """Names an assignment target rebinds (``a``, ``a, b``; not ``a.x`` or ``a[i]``, which mutate ``a``)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Tuple | ast.List):
        return {n for elt in target.elts for n in _target_names(elt)}
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return set()


def _is_code_object(value) -> bool:
    """Modules, functions and classes: what a test relies on by name and a student has no reason to rebind."""
    return isinstance(value, types.ModuleType | types.FunctionType | types.BuiltinFunctionType | type)


class Snapshot:
    """The state of protected modules, classes and ``sys`` hooks, taken before student code runs."""

    def __init__(self, shell, kernel):
        self.modules: dict[str, tuple[types.ModuleType, dict]] = {}
        self.classes: dict[type, dict] = {}
        for name in PROTECTED_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                continue
        self.add_new_modules()
        machinery = [type(kernel), type(shell), type(shell.displayhook), type(shell.display_pub),
                     type(kernel.session), type(sys.stdout), type(sys.stderr)]
        for cls in machinery:
            for klass in cls.__mro__:
                if klass is not object:
                    self.classes.setdefault(klass, dict(klass.__dict__))
        self.sys_hooks = {name: getattr(sys, name) for name in
                          ("excepthook", "displayhook", "unraisablehook", "breakpointhook", "stdout", "stderr")}
        self.shell_lists = {
            "input_transformers_cleanup": list(shell.input_transformers_cleanup),
            "input_transformers_post": list(shell.input_transformers_post),
            "ast_transformers": list(shell.ast_transformers),
        }
        self.shell_attrs = {name: shell.__dict__.get(name, _MISSING)
                            for name in ("custom_exceptions", "CustomTB", "showtraceback", "_showtraceback",
                                         "run_cell", "run_cell_async", "transform_cell", "displayhook",
                                         "display_pub", "InteractiveTB", "events", "user_ns", "user_module")}

    def add_new_modules(self) -> list[str]:
        """Snapshot protected modules not seen before (trust on first use); returns their names."""
        new = []
        for name, module in list(sys.modules.items()):
            if module is None or name in self.modules or not _protected_name(name):
                continue
            self.modules[name] = (module, dict(vars(module)))
            new.append(name)
            for value in list(vars(module).values()):
                if isinstance(value, type) and getattr(value, "__module__", None) == name:
                    self.classes.setdefault(value, dict(value.__dict__))
        return new

    def restore_builtins(self) -> None:
        """Put back the builtins (``abs``, ``max``, ``AssertionError`` ...) as they were at the start."""
        current = vars(builtins)
        for key, value in self.modules["builtins"][1].items():
            if current.get(key, _MISSING) is not value:
                current[key] = value

    def _module_changes(self, fix: bool) -> list[str]:
        changes = []
        for name, (module, saved) in self.modules.items():
            if sys.modules.get(name, module) is not module:
                changes.append(f"sys.modules[{name!r}]")
                if fix:
                    sys.modules[name] = module
            current = vars(module)
            code_only = name.startswith("cs231n")  # the kit's modules keep state (e.g. checks' section)
            for key, value in saved.items():
                if code_only and not _is_code_object(value):
                    continue
                if current.get(key, _MISSING) is not value:
                    changes.append(f"{name}.{key}")
                    if fix:
                        current[key] = value
            for key in [k for k in current if k not in saved]:
                value = current[key]
                if isinstance(value, types.ModuleType) and value.__name__ == f"{name}.{key}":
                    saved[key] = value  # a submodule imported since the snapshot
                elif key.startswith("__") or not _is_code_object(value):
                    continue  # module state (caches, the displayhook's `_`) is not something a test relies on
                else:
                    changes.append(f"{name}.{key} (added)")
                    if fix:
                        del current[key]
        return changes

    def _class_changes(self, fix: bool) -> list[str]:
        changes = []
        for cls, saved in self.classes.items():
            current = cls.__dict__
            for key in set(saved) | set(current):
                if key in ("__doc__", "__dict__", "__weakref__", "__abstractmethods__", "_abc_impl",
                           "__slotnames__", "__parameters__"):
                    continue
                if current.get(key, _MISSING) is not saved.get(key, _MISSING):
                    changes.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                    if fix:
                        try:
                            if key in saved:
                                setattr(cls, key, saved[key])
                            else:
                                delattr(cls, key)
                        except (AttributeError, TypeError):
                            pass  # a built-in type: cannot have been changed either
        return changes

    def changes(self, fix: bool = False) -> list[str]:
        """What differs from the snapshot in modules, builtins and classes (restored when ``fix``)."""
        return self._module_changes(fix) + self._class_changes(fix)

    def reset_hooks(self, shell) -> list[str]:
        """Put back ``sys`` hooks, tracing, and the shell's transformers and exception handlers."""
        changes = []
        for name, value in self.sys_hooks.items():
            if getattr(sys, name) is not value:
                changes.append(f"sys.{name}")
                setattr(sys, name, value)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changes.append("sys.settrace/setprofile")
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)  # type: ignore[arg-type]
        threading.setprofile(None)  # type: ignore[arg-type]
        for name, saved in self.shell_lists.items():
            current = getattr(shell, name)
            if list(current) != saved:
                changes.append(f"shell.{name}")
                current[:] = saved
        for name, saved in self.shell_attrs.items():
            current = shell.__dict__.get(name, _MISSING)
            if current is not saved:
                changes.append(f"shell.{name}")
                if saved is _MISSING:
                    del shell.__dict__[name]
                else:
                    shell.__dict__[name] = saved
        return changes


class GuardedKernel(IPythonKernel):
    """An IPython kernel that runs test cells itself after undoing what student code may have changed."""

    implementation = "cs231n-guarded"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._checks = importlib.import_module("cs231n.checks")
        self._snapshot = Snapshot(self.shell, self)
        self._trusted: dict[str, object] = {}  # name -> value bound by an instructor cell
        self._restored: list[str] = []

    # -- roles --------------------------------------------------------------------------------------
    async def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False,
                         *, cell_meta=None, cell_id=None):
        info = (cell_meta or {}).get("cs231n") or {}
        role = info.get("role")
        if role not in ("test", "given"):
            try:
                return await super().do_execute(code, silent, store_history, user_expressions, allow_stdin,
                                                cell_meta=cell_meta, cell_id=cell_id)
            finally:  # the kernel's own messaging relies on the builtins: never leave them patched
                self._snapshot.restore_builtins()
        self._restored = self._restore()
        if role == "test":
            reply = self._run_test(code, str(info.get("nonce", "")), str(info.get("mode", "grade")),
                                   info.get("supplies_json"))
        else:
            reply = await super().do_execute(code, silent, store_history, user_expressions, allow_stdin,
                                             cell_meta=cell_meta, cell_id=cell_id)
        self._trust(code)
        return reply

    def _restore(self) -> list[str]:
        self._snapshot.add_new_modules()
        return self._snapshot.reset_hooks(self.shell) + self._snapshot.changes(fix=True)

    def _trust(self, code: str) -> None:
        """Remember the modules, functions and classes an instructor cell bound, by name."""
        ns = self.shell.user_ns
        for name in bound_names(code):
            value = ns.get(name, _MISSING)
            if value is not _MISSING and _is_code_object(value):
                self._trusted[name] = value
        self._snapshot.add_new_modules()

    # -- test cells ---------------------------------------------------------------------------------
    def _enter_test_namespace(self) -> tuple[dict, list[str]]:
        """Give instructor names their instructor values and hide student names shadowing builtins."""
        ns, saved, changed = self.shell.user_ns, {}, []
        for name, value in self._trusted.items():
            if ns.get(name, _MISSING) is not value:
                saved[name] = ns.get(name, _MISSING)
                ns[name] = value
                changed.append(name)
        ipython_names = self.shell.user_ns_hidden
        for name in [n for n in ns if hasattr(builtins, n) and n not in self._trusted and not n.startswith("_")
                     and ns[n] is not ipython_names.get(n, _MISSING)]:
            saved[name] = ns.pop(name)
            changed.append(name)
        return saved, changed

    def _leave_test_namespace(self, saved: dict, during: dict) -> None:
        """Give the student's bindings back, unless the test itself rebound the name."""
        ns = self.shell.user_ns
        for name, value in saved.items():
            if ns.get(name, _MISSING) is not during.get(name, _MISSING):
                continue
            if value is _MISSING:
                ns.pop(name, None)
            else:
                ns[name] = value

    def _run_test(self, code: str, nonce: str, mode: str = "grade", supplies_json: str | None = None) -> dict:
        from IPython.core.inputtransformer2 import TransformerManager

        shell = self.shell
        count = shell.execution_count
        shell.execution_count += 1
        saved, hidden = self._enter_test_namespace()
        during = {name: shell.user_ns.get(name, _MISSING) for name in saved}
        error = None
        try:
            self._checks.begin_cell(mode if mode in ("grade", "reference") else "grade",
                                    json.loads(supplies_json) if supplies_json else {})
            compiled = compile(TransformerManager().transform_cell(code), f"<test cell {count}>", "exec")
            exec(compiled, shell.user_ns)  # noqa: S102 - the instructor's test, run on purpose
            changes = self._snapshot.changes(fix=True)
            if changes:
                raise TamperDetected("protected objects changed while the test ran: " + ", ".join(changes[:8]))
        except BaseException as exc:  # noqa: BLE001 - every failure of a test, SystemExit included, fails it
            error = exc
        finally:
            self._leave_test_namespace(saved, during)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        if error is not None:
            self._publish_error(error)
            return {"status": "error", "execution_count": count, "ename": type(error).__name__,
                    "evalue": str(error), "traceback": []}
        try:
            observations = json.dumps(self._checks.finish_cell(), allow_nan=True)
        except (TypeError, ValueError) as exc:
            observations = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        report = {"nonce": nonce, "restored": self._restored, "hidden_names": hidden,
                  "observations_json": observations}
        self.session.send(self.iopub_socket, "display_data",
                          {"data": {PROOF_MIME: report}, "metadata": {}, "transient": {}},
                          parent=self.get_parent(), ident=self._topic("display_data"))
        return {"status": "ok", "execution_count": count, "user_expressions": {}, "payload": []}

    def _publish_error(self, error: BaseException) -> None:
        """Send the test's exception as an error output (what nbgrader reads as a failed test)."""
        # as the notebook shows it: a failed check's message alone, else the student's frames and the error
        # (never a renderer the student's objects bring)
        lines = self._checks.short_traceback(error)
        content = {"ename": type(error).__name__, "evalue": str(error), "traceback": ["\n".join(lines)]}
        self.session.send(self.iopub_socket, "error", content, parent=self.get_parent(), ident=self._topic("error"))


def main() -> None:
    import os

    from ipykernel.kernelapp import IPKernelApp

    # A notebook imports from its own folder (``from given.layers import ...``), as in Jupyter. The kernel
    # runs with ``python -I``, which leaves that folder off sys.path: it goes last, so that a file the
    # submission brings cannot stand in for a module of the standard library or the environment.
    sys.path.append(os.getcwd())
    IPKernelApp.launch_instance(kernel_class=GuardedKernel)


if __name__ == "__main__":
    main()
