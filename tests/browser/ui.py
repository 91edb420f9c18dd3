"""Steps of JupyterLab's UI that the browser tests share (Playwright pages): the menu bar, a notebook's
code cell by its source, and nbgrader's Validate and Submit as a student uses them."""

import re


def menu(page, top: str, item: str) -> None:
    """Click a JupyterLab menu bar entry, then an item of its menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def code_cell(page, text: str):
    """The open notebook's code cell whose source contains ``text``."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".cm-content", has_text=text)).first


def validate(page, timeout_ms: int):
    """Click the notebook's Validate button and wait for nbgrader's results; returns the dialog (open)."""
    page.locator(".jp-Toolbar-item", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=timeout_ms)
    return dialog


def close_dialog(dialog) -> None:
    dialog.get_by_role("button", name="Ok").click()
    dialog.wait_for(state="detached")


def submit(page, assignment: str) -> None:
    """Submit ``assignment`` from the Assignments tab and wait until it is listed as submitted.

    The page may have reloaded since the tab was opened, and JupyterLab restores the tab only if it
    saved its layout before that: the list is reopened from the menu (which activates the tab if it
    is there and opens it if not)."""
    menu(page, "Nbgrader", "Assignment List")
    page.locator("#fetched_assignments_list .list_item", has_text=assignment).get_by_role(
        "button", name="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=assignment).first.wait_for()


def fetch(page, shots, assignment: str, course_id: str):
    """Open the Assignments tab, check that ``assignment`` of ``course_id`` is released (screenshot
    "assignments-tab"), fetch it and wait until it is listed as fetched; returns that list item."""
    menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list .list_item", has_text=assignment)
    released.wait_for()
    assert course_id in released.inner_text()
    shots.take(page, "assignments-tab")
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=assignment).first
    fetched.wait_for()
    return fetched
