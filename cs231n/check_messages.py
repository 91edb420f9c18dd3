"""How a check's failure shows itself to a student: the message alone, wrapped to fit ``nbgrader
validate``; the student's own frames when their code raised; and, in a notebook, one message for a cell
that depends on unfinished work (a release stub reached, a name not defined yet, a variable still None)."""

import linecache
import os
import re
import textwrap
import traceback
from typing import Any


class CheckFailed(AssertionError):
    """A check failed; the message says what looks wrong."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for it: the message alone, without the frames of the checks."""
        return short_traceback(self)


class NotAttempted(CheckFailed):
    """The checked function is still the release stub."""


_KIT = os.path.dirname(os.path.abspath(__file__))
_MACHINERY = tuple(os.path.join(_KIT, name) for name in (os.path.join("checks", ""), "check_messages.py",
                                                           "verdicts.py", "plaindata.py", "grading"))


def _kit_frame(frame: Any) -> bool:
    """A frame of the checks or of the grading machinery: neither the student's code nor the test cell."""
    return frame.f_code.co_filename.startswith(_MACHINERY) or bool(frame.f_locals.get("__tracebackhide__"))


def _where(filename: str, lineno: int) -> str:
    """'Cell In[7], line 3' for a notebook cell (as IPython says it), else the file and the line."""
    try:
        from IPython import get_ipython

        cell = get_ipython().compile._filename_map.get(filename)
    except Exception:  # noqa: BLE001 - outside IPython, or an IPython without the map
        cell = None
    return f"Cell In[{cell}], line {lineno}" if cell is not None else f'File "{filename}", line {lineno}'


#: Message lines are wrapped to this width: ``nbgrader validate`` cuts longer lines at about 80 columns.
MESSAGE_WIDTH = 79


def _wrapped(message: str) -> list[str]:
    """A message as lines of at most MESSAGE_WIDTH columns (continuation lines indented)."""
    return [line for paragraph in message.splitlines() or [""]
            for line in textwrap.wrap(paragraph, MESSAGE_WIDTH, subsequent_indent="  ", break_long_words=False,
                                      break_on_hyphens=False) or [""]]


def short_traceback(error: BaseException) -> list[str]:
    """The lines a student sees for an error raised in a check: a failed check's message alone; for an
    error in the student's own code, the student's frames (their cell, their line) and the message."""
    head = [*_wrapped(f"{type(error).__name__}: {error}"),
            *(line for note in getattr(error, "__notes__", ()) for line in _wrapped(str(note)))]
    head[0] = head[0].replace(type(error).__name__, f"\x1b[0;31m{type(error).__name__}\x1b[0m", 1)
    if isinstance(error, CheckFailed):
        return head
    frames, seen = [], None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if _kit_frame(frame) or (frame.f_code.co_filename, lineno) == seen:
            continue  # the checks' frames, and a lambda on the line just shown
        seen = (frame.f_code.co_filename, lineno)
        code = linecache.getline(frame.f_code.co_filename, lineno).strip()
        frames.append(f"  {_where(frame.f_code.co_filename, lineno)}, in {frame.f_code.co_name}"
                      + (f"\n    {code}" if code else ""))
    return ["Traceback (your code, most recent call last):", *frames, *head] if frames else head




def show_unfinished(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """How a cell that depends on unfinished work ends, in a student's notebook: one message saying what
    to finish first instead of a traceback through every cell. Other errors show as usual.

    - a release stub reached (NotImplementedError): which function is not written yet, and where;
    - a name that is not defined: the cell that defines it has not run (or it is misspelt);
    - an attribute of None: a variable an unfinished TODO should set is still None."""
    if isinstance(value, NotImplementedError):
        return _show_not_attempted(shell, etype, value, tb)
    where = [(frame, line) for frame, line in traceback.walk_tb(tb) if not _kit_frame(frame)]
    cell_line = linecache.getline(where[0][0].f_code.co_filename, where[0][1]) if where else ""
    if isinstance(value, NameError) and where:
        hint = (f"If a cell above defines {value.name!r}, it has not run in this session or it stopped with an "
                f"error: run the cells above in order (Run > Run All Above Selected Cell) and complete the "
                f"first one that fails. Otherwise check the spelling.") if getattr(value, "name", None) else ""
        value.args = (f"{value}. {hint}".strip(),)
        return shell._showtraceback(etype, value, short_traceback(value))
    if isinstance(value, AttributeError) and str(value).startswith("'NoneType' object has no attribute"):
        names = [n for n in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", cell_line))
                 if n in shell.user_ns and shell.user_ns[n] is None]
        if names:  # a variable a TODO above should have set: the message says which, no frames needed
            value.args = (f"not attempted yet: {' or '.join(names)} is still None ({value}). If a TODO above sets "
                          f"it, complete that one first, then run this cell again.",)
            return shell._showtraceback(etype, value, short_traceback(value)[-_message_lines(value):])
        value.args = (f"{value}: something is still None here, perhaps a function that returns nothing, or a "
                      f"variable a TODO above sets.",)
        return shell._showtraceback(etype, value, short_traceback(value))
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def _show_not_attempted(shell: Any, etype: type, value: BaseException, tb: Any) -> None:
    """A release stub reached: which function is not written yet (the message alone: it names it)."""
    where = [frame for frame, _ in traceback.walk_tb(tb) if not _kit_frame(frame)]
    stub = getattr(where[-1].f_code, "co_qualname", where[-1].f_code.co_name) if where else "<module>"
    sibling = where[-1].f_code.co_filename.partition(", cell ")[0] if where else ""
    if stub == "<module>":
        message = "this cell's TODO is not done yet (it still raises NotImplementedError)."
    elif sibling.endswith(".ipynb"):  # a function loaded from another notebook (cs231n.notebook_import)
        message = (f"{stub} in {sibling} is not written yet (its TODO still raises NotImplementedError). Complete "
                   f"it there, save {sibling}, run the cell here that loads it, then run this cell again.")
    else:
        message = (f"{stub} is not written yet (its TODO still raises NotImplementedError). Complete it, run its "
                   f"cell, then run this cell again.")
    value.args = (message,)
    shell._showtraceback(etype, value, short_traceback(value)[-_message_lines(value):])


def _message_lines(error: BaseException) -> int:
    """How many lines the wrapped message of ``error`` takes (the end of its short traceback)."""
    return len(_wrapped(f"{type(error).__name__}: {error}")) + sum(len(_wrapped(str(note)))
                                                                    for note in getattr(error, "__notes__", ()))
