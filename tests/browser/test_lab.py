"""The student notebooks in JupyterLab, as a student uses them: JupyterLab started by the test on
127.0.0.1 over a copy of the lab edition (``_build/lab``, made by ``make notebooks``), driven in
headless Chromium.

Runs the explorers notebook and moves a widget's slider; runs the pooling chapter up to its
exercises and then one exercise's tests. Checks that no cell shows an error (except the
exercise's test, which must name the exercise still to do), that no markdown shows raw MyST,
and that the code the book includes from the package, a glued number and a folded answer are
there. Screenshots go to _build/screenshots/lab-*.png.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SHOTS

LAB = ROOT / "_build" / "lab"
VENV_BIN = Path(sys.executable).parent
RAW_MYST = re.compile(r"\{(glue:text|glue|literalinclude|dropdown|doc|ref|note|admonition)\}|^:::|^\(\S+\)=$", re.M)
# The nbgrader pages an instructor uses; a student's Lab leaves them off (as `make lab` does).
NO_INSTRUCTOR_PAGES = ("{'nbgrader.server_extensions.formgrader': False, "
                       "'nbgrader.server_extensions.course_list': False, "
                       "'nbgrader.server_extensions.assignment_list': False}")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory):
    if not (LAB / ".coursecnn-edition").exists():
        pytest.fail("no lab edition at _build/lab: run `make notebooks` (or `make lab`) first")
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(LAB, root)  # the test's runs and saves never touch the edition itself
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no windowing), so the whole notebook's text can be read.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"),
               OMP_NUM_THREADS="1")
    env.pop("JUPYTER_CONFIG_DIR", None)
    cmd = [str(VENV_BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--port-retries=0", f"--ServerApp.root_dir={root}", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
           f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
           f"--ServerApp.jpserver_extensions={NO_INSTRUCTOR_PAGES}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=home)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start in 120 s")
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited: {(home / 'lab.log').read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    startup = (home / "lab.log").read_text()
    assert "nbgrader" not in "".join(ln for ln in startup.splitlines() if "[E " in ln), startup


@pytest.fixture(scope="module")
def page(browser, lab_url):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    foreign = []

    def route(r):
        if r.request.url.startswith(lab_url) or r.request.url.startswith(("data:", "blob:")):
            return r.continue_()
        foreign.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    p = context.new_page()
    yield p
    context.close()
    assert not foreign, f"Lab asked for other hosts: {foreign[:5]}"


def _open(page, url, path):
    page.goto(f"{url}/lab/tree/{path}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
    # The kernel is ready when the toolbar's status says so.
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }", timeout=60000)


def _command(page, menu, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def _wait_idle(page, timeout=120000):
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " const busy = [...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));"
        " return s && s.getAttribute('data-status') === 'idle' && !busy; }", timeout=timeout)


def _errors(page):
    return page.locator(".jp-Notebook [data-mime-type='application/vnd.jupyter.error']").all_inner_texts()


def _markdown_text(page):
    # Rendered markdown cells (by JupyterLab's renderer or jupyterlab-myst's); their editors are hidden.
    return "\n".join(page.locator(".jp-Notebook .jp-MarkdownCell").all_inner_texts())


def test_explorers_notebook_runs_and_its_widget_answers(page, lab_url):
    _open(page, lab_url, "explorers.ipynb")
    _command(page, "Run", "Run All Cells")
    _wait_idle(page)
    assert _errors(page) == []
    text = _markdown_text(page)
    assert "Interactive explorers" in text and not RAW_MYST.search(text)
    # The ipywidgets ArithmeticExplorer: move its first slider one step and see the output change.
    widget = page.locator(".jp-OutputArea-output .widget-vbox, .jp-OutputArea-output .jupyter-widgets").filter(
        has=page.locator(".widget-slider")).nth(1)
    widget.scroll_into_view_if_needed()
    before = widget.inner_text()
    handle = widget.locator(".widget-slider .noUi-handle, .widget-slider input").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([el, old]) => el.innerText !== old", arg=[widget.element_handle(), before],
                           timeout=20000)
    assert widget.inner_text() != before
    assert _errors(page) == []


def test_chapter_reads_as_in_the_book_and_checks_tell_the_truth(page, lab_url):
    _open(page, lab_url, "chapters/pooling.ipynb")
    notebook = page.locator(".jp-Notebook")
    text = _markdown_text(page)
    assert not RAW_MYST.search(text), RAW_MYST.search(text)
    assert "def max_pool2d_naive(" in text  # the code the book includes from the package
    # Run everything above the exercises: no cell may fail.
    first_exercise = notebook.locator(".jp-Cell").filter(has_text="def pooled_size(").first
    first_exercise.scroll_into_view_if_needed()
    first_exercise.locator(".jp-InputArea-prompt").click()
    _command(page, "Run", "Run All Above Selected Cell")
    _wait_idle(page)
    assert _errors(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Included code, in place of the literalinclude directive.
    code_cell = notebook.locator(".jp-MarkdownCell").filter(has_text="def max_pool2d_naive(").first
    code_cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-included-code.png"))
    # A computed number: the 64-to-64 3x3 convolution's parameter count, glued by the chapter.
    number_cell = notebook.locator(".jp-MarkdownCell").filter(has_text="36,928").first
    number_cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-computed-number.png"))
    # Folded answers: closed until the student opens one.
    details = notebook.locator(".jp-MarkdownCell details")
    assert details.count() >= 4
    first = details.first
    first.scroll_into_view_if_needed()
    assert first.get_attribute("open") is None
    answer = first.locator("p").first
    assert not answer.is_visible()
    page.screenshot(path=str(SHOTS / "lab-folded-answer.png"))
    first.locator("summary").click()
    assert answer.is_visible()
    page.screenshot(path=str(SHOTS / "lab-opened-answer.png"))
    # The untouched stub: its test cell fails and says which exercise is still to do.
    test_cell = notebook.locator(".jp-CodeCell").filter(has_text="check_scalar(pooled_size(224, 2, 2)").first
    first_exercise.locator(".jp-InputArea-prompt").click()
    _command(page, "Run", "Run Selected Cell")
    test_cell.locator(".jp-InputArea-prompt").click()
    _command(page, "Run", "Run Selected Cell")
    _wait_idle(page)
    errors = _errors(page)
    assert len(errors) == 1 and "pooling exercise 1 (the pooled size) is still to do" in errors[0], errors
    test_cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-stub-message.png"))
