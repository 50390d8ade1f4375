"""The student notebooks in JupyterLab, as a student uses them: JupyterLab started by the test on
127.0.0.1 over a copy of the lab edition (``_build/lab``, made by ``make notebooks``), driven in
headless Chromium.

Runs the explorers notebook and moves a widget's slider; runs the pooling chapter up to its
exercises and then one exercise's tests. Checks that no cell shows an error (except the
exercise's test, which must name the exercise still to do), that no markdown shows raw MyST,
and that the code the book includes from the package, a glued number and a folded answer are
there. Runs All on the untouched perceptron chapter: every cell runs, every figure renders, each
test cell says its exercise is still to do and the last cell lists them all. Lab is configured as
`make lab` configures it (tools/student-lab): no instructor tools. Screenshots go to
_build/screenshots/lab-*.png.
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
NB = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"  # the notebook in the open tab
NO_INSTRUCTOR_PAGES = ("{'nbgrader.server_extensions.formgrader': False, "
                       "'nbgrader.server_extensions.course_list': False, "
                       "'nbgrader.server_extensions.assignment_list': False, "
                       "'nbgrader.server_extensions.validate_assignment': False, 'coursecnn.labserver': True}")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not (LAB / ".coursecnn-edition").exists():
        pytest.fail("no lab edition at _build/lab: run `make notebooks` (or `make lab`) first")
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(LAB, root)  # the test's runs and saves never touch the edition itself
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no windowing), so the whole notebook's text can be read.
    # Start the notebook's kernel without asking (a slow server can make Lab ask otherwise).
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none",
                                                                      "autoStartDefaultKernel": True}))
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               OMP_NUM_THREADS="1")
    env.pop("JUPYTER_CONFIG_DIR", None)
    env["JUPYTER_CONFIG_PATH"] = str(ROOT / "tools" / "student-lab")  # as `make lab` runs it
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
        yield url, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    startup = (home / "lab.log").read_text()
    assert "nbgrader" not in "".join(ln for ln in startup.splitlines() if "[E " in ln), startup


@pytest.fixture(scope="module")
def lab_url(lab):
    return lab[0]


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
    page.goto(f"{url}/lab/tree/{path}?reset", wait_until="domcontentloaded")  # ?reset: only this notebook open
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", timeout=60000)
    # The kernel is ready when the toolbar's status says so.
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }", timeout=60000)


def _command(page, menu, command, started=None):
    """Click a menu bar entry, then the item that runs ``command`` (a JupyterLab command id). With
    ``started`` (a locator of one code cell), try again until that cell has started running: a
    run asked for while the kernel is still connecting can be dropped."""
    for _ in range(6):
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        if dialogs and dialogs[0].startswith("Select Kernel"):  # the notebook's own kernel is preselected
            page.locator(".jp-Dialog .jp-mod-accept").click()
            dialogs = page.locator(".jp-Dialog").all_inner_texts()
        if dialogs:
            page.screenshot(path="/tmp/lab_dialog.png")
            raise AssertionError(f"JupyterLab shows a dialog: {dialogs}")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).first.click()
        page.locator(f".lm-Menu-item[data-command='{command}']").first.click()
        if started is None:
            return
        try:
            started.locator(".jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]")).wait_for(timeout=10000)
            return
        except Exception:
            page.keyboard.press("Escape")
    raise AssertionError(f"JupyterLab did not start {command}")


def _wait_run(page, cells, timeout=180000):
    """Wait until the code cells ``cells`` (a locator) all show an execution count and none runs."""
    page.wait_for_function(
        "els => els.length > 0 && els.every(c => { const p = c.querySelector('.jp-InputPrompt').textContent;"
        " return p === '' || /\\[\\d+\\]/.test(p); })",  # '': a folded input (the setup cell) has no prompt
        arg=cells.element_handles(), timeout=timeout)


def _errors(page, lab, path, ran):
    """The error outputs of the notebook ``path``, read from the file after saving it (Lab shows
    errors and stderr alike); waits until ``ran`` code cells have an execution count there."""
    page.keyboard.press("Control+s")
    file = lab[1] / path
    deadline = time.time() + 60
    while True:
        try:
            nb = json.loads(file.read_text())
            counted = sum(1 for c in nb["cells"] if c.get("execution_count"))
        except (OSError, ValueError):
            counted = -1
        if counted >= ran or time.time() > deadline:
            break
        time.sleep(0.5)
        page.keyboard.press("Control+s")
    assert counted >= ran, f"{path}: {counted} cells ran, expected {ran}"
    return [f"cell {k}: {o.get('ename')}: {o.get('evalue')}" for k, c in enumerate(nb["cells"])
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _markdown_text(page):
    # Rendered markdown cells (by JupyterLab's renderer or jupyterlab-myst's, which renders them
    # a moment after the notebook opens); their editors are hidden.
    page.wait_for_function("() => { const md = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-MarkdownCell')];"
                           " return md.length > 0 && md.every(c => c.innerText.trim().length > 0); }",
                           timeout=60000)
    return "\n".join(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-MarkdownCell").all_inner_texts())


def _code_cells_before(lab, path, marker=None):
    """How many code cells the edition's notebook ``path`` has before the first cell holding
    ``marker`` (all of them without one)."""
    cells = json.loads((lab[1] / path).read_text())["cells"]
    end = next((k for k, c in enumerate(cells) if marker and marker in "".join(c["source"])), len(cells))
    return sum(1 for c in cells[:end] if c["cell_type"] == "code")


def test_explorers_notebook_runs_and_its_widget_answers(page, lab):
    url, path = lab[0], "explorers.ipynb"
    ran = _code_cells_before(lab, path)
    _open(page, url, path)
    _command(page, "Run", "runmenu:run-all", started=page.locator(f"{NB} .jp-CodeCell").nth(1))  # 0: the folded setup cell
    _wait_run(page, page.locator(f"{NB} .jp-CodeCell"))
    assert _errors(page, lab, path, ran) == []
    text = _markdown_text(page)
    assert "Interactive explorers" in text and not RAW_MYST.search(text)
    # The ipywidgets ArithmeticExplorer: move its first slider one step and see the output change.
    cell = page.locator(f"{NB} .jp-CodeCell").filter(has_text="ArithmeticExplorer(input_size=7").first
    widget = cell.locator(".jp-OutputArea-output").first
    widget.scroll_into_view_if_needed()
    widget.locator(".widget-slider").first.wait_for(timeout=30000)
    before = widget.inner_text()
    handle = widget.locator(".widget-slider .noUi-handle, .widget-slider input").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([el, old]) => el.innerText !== old", arg=[widget.element_handle(), before],
                           timeout=20000)
    assert widget.inner_text() != before
    assert _errors(page, lab, path, ran) == []


def test_chapter_reads_as_in_the_book_and_checks_tell_the_truth(page, lab):
    url, path = lab[0], "chapters/pooling.ipynb"
    ran = _code_cells_before(lab, path, "def window_counts(")
    _open(page, url, path)
    notebook = page.locator(NB)
    text = _markdown_text(page)
    assert not RAW_MYST.search(text), RAW_MYST.search(text)
    assert "def max_pool2d_naive(" in text  # the code the book includes from the package
    # Run everything above the exercises: no cell may fail.
    first_exercise = notebook.locator(".jp-Cell").filter(has_text="def window_counts(").first
    first_exercise.scroll_into_view_if_needed()
    first_exercise.locator(".jp-InputArea-prompt").click()
    _command(page, "Run", "notebook:run-all-above", started=notebook.locator(".jp-CodeCell").nth(1))
    assert _errors(page, lab, path, ran) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Included code, in place of the literalinclude directive.
    code_cell = notebook.locator(".jp-MarkdownCell").filter(has_text="def max_pool2d_naive(").first
    code_cell.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SHOTS / "lab-included-code.png"))
    # A computed number: the 64-to-64 3x3 convolution's parameter count, glued by the chapter.
    number_cell = notebook.locator(".jp-MarkdownCell").filter(has_text="36,928").first
    number_cell.evaluate("e => e.scrollIntoView({block: 'center'})")
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
    test_cell = notebook.locator(".jp-CodeCell").filter(has_text="_counts = window_counts((5, 5), 3, 2)").first
    for c in (first_exercise, test_cell):
        c.locator(".jp-InputArea-prompt").click()
        _command(page, "Run", "notebook:run-cell", started=c)
    errors = _errors(page, lab, path, ran + 2)
    assert len(errors) == 1 and "pooling exercise 1 (how many windows see a pixel) is still to do" in errors[0], errors
    test_cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-stub-message.png"))


def test_book_downloads_are_the_lab_notebooks():
    """The HTML book's download button serves _sources/<page>.ipynb: it must be the notebook that
    `make lab` opens, byte for byte (`make book` copies them there)."""
    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        pytest.fail("no built book at _build/html: run `make book` first")
    pages = sorted((html / "_sources").rglob("*.ipynb"))
    assert pages, "the book has no downloadable notebooks"
    for page in pages:
        rel = page.relative_to(html / "_sources")
        assert (LAB / rel).exists(), f"{rel}: in the book, not in the lab edition"
        assert page.read_bytes() == (LAB / rel).read_bytes(), f"{rel}: the download differs from _build/lab/{rel}"
        assert "skip-execution" not in page.read_text()


def _dirty_tabs(page):
    return page.locator(".lm-TabBar-tab.jp-mod-dirty").count()


def test_run_all_runs_an_untouched_chapter_to_the_end_and_lists_every_exercise(page, lab):
    """Run All on the untouched perceptron chapter: no cell is left unrun, every figure renders,
    the only errors are the exercises' test cells (each saying its exercise is still to do), and
    the summary at the end lists every exercise. Opening the notebook does not mark it modified,
    and the instructor's nbgrader tools are not there."""
    url, path = lab[0], "chapters/perceptron.ipynb"
    built = json.loads((lab[1] / path).read_text())
    code_cells = [c for c in built["cells"] if c["cell_type"] == "code"]
    tests = [c["id"] for c in code_cells if "raises-exception" in c["metadata"].get("tags", [])
             and c["metadata"].get("nbgrader", {}).get("grade")]
    assert len(tests) >= 3
    _open(page, url, path)
    _markdown_text(page)
    page.wait_for_timeout(1500)  # anything that would mark it modified has happened by now
    assert _dirty_tabs(page) == 0, "the notebook shows as modified right after opening"
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" not in menus and "Formgrader" not in menus, menus
    assert page.locator("text=Create Assignment").count() == 0
    notebook = page.locator(NB)
    _command(page, "Run", "runmenu:run-all", started=notebook.locator(".jp-CodeCell").nth(1))
    _wait_run(page, notebook.locator(".jp-CodeCell"), timeout=420000)
    errors = _errors(page, lab, path, len(code_cells))
    saved = json.loads((lab[1] / path).read_text())
    failed = {c["id"]: o for c in saved["cells"] if c["cell_type"] == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"}
    assert sorted(failed) == sorted(tests), errors
    assert all("is still to do" in o["evalue"] for o in failed.values()), errors
    # Every figure: a cell that draws has an image output, and Lab shows each image drawn.
    drawing = [c for c in saved["cells"] if c["cell_type"] == "code" and c["id"] not in tests
               and re.search(r"\bplt\.|\bplots\.|\.imshow\(|fig\b", "".join(c["source"]))]
    assert drawing, "the chapter draws nothing?"
    for c in drawing:
        assert any("image/png" in o.get("data", {}) for o in c["outputs"]), f"cell {c['id']} drew no figure"
    images = sum(1 for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    shown = page.evaluate(f"() => [...document.querySelectorAll('{NB} .jp-OutputArea-output img')]"
                          ".map(i => i.complete && i.naturalWidth > 0)")
    assert len(shown) == images and all(shown), (images, shown)
    # The last cell: every exercise, by name, still to do.
    summary = notebook.locator(".jp-CodeCell").last
    summary.scroll_into_view_if_needed()
    text = summary.locator(".jp-OutputArea").inner_text()
    for label in re.findall(r"\('(perceptron exercise \d+)'", "".join(code_cells[-1]["source"])):
        assert re.search(f"{label} \\(.*\\): still to do", text), text
    assert f"0 of {len(tests)} passed" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab-run-all-summary.png"))
    # A figure after the first exercise (Lab used to stop there): the activation functions.
    after = notebook.locator(".jp-CodeCell").filter(has_text='names = ["step", "sigmoid"').first
    after.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-run-all-figure.png"))
    first_test = notebook.locator(".jp-CodeCell").filter(has_text="from coursecnn.lab import needs").first
    first_test.locator(".jp-OutputArea").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-run-all-test-message.png"))


def test_validate_in_lab_lists_passed_exercises_too(page, lab):
    """Lab's Validate button on a pooling notebook with exercise 1 solved: it fails, and lists
    every exercise: 1 passed, 2 and 3 still to do."""
    url, root = lab
    src = json.loads((ROOT / "book" / "chapters" / "pooling.ipynb").read_text())
    solution = next(c for c in src["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "pooling-ex1-solution")
    nb = json.loads((root / "chapters" / "pooling.ipynb").read_text())
    mine = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "pooling-ex1-solution")
    mine["source"] = "".join(solution["source"])
    (root / "chapters" / "pooling-partial.ipynb").write_text(json.dumps(nb))
    _open(page, url, "chapters/pooling-partial.ipynb")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=240000)
    page.wait_for_function("() => !document.querySelector('.jp-Dialog') || "
                           "document.querySelector('.jp-Dialog').innerText.includes('Your exercises')", timeout=240000)
    text = dialog.inner_text()
    assert "VALIDATION FAILED" in text or "failed" in text, text
    assert "pooling exercise 1: passed" in text, text
    assert "pooling exercise 2: still to do" in text and "pooling exercise 3: still to do" in text, text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab-validate.png"))
    dialog.locator(".jp-mod-accept").click()
