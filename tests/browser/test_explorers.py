"""The Explorers page of the built book: the static explorers run in the browser, offline, and
their numbers equal coursecnn.ref's on the same input.

To check a private build instead of _build/html, set COURSECNN_HTML to its html folder, e.g.
``COURSECNN_HTML=/tmp/w/_build/html .venv/bin/pytest -q tests/browser/test_explorers.py``.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import HTML, SHOTS, PageProbe, _QuietHandler

from coursecnn import arith, ref
from coursecnn.widgets import KERNELS, static_explorer
from coursecnn.widgets.samples import LECTURE_IMAGE, LECTURE_POOL_INPUT

BUILT = Path(os.environ.get("COURSECNN_HTML", HTML))
PAGE = "explorers.html"


def _serve(folder):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def site():
    """Serve the built book (or COURSECNN_HTML's) on 127.0.0.1; overrides conftest's for this file."""
    if not (BUILT / PAGE).exists():
        pytest.fail(f"no built Explorers page at {BUILT / PAGE}: run `make book` first")
    server = _serve(BUILT)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def loaded(browser, site):
    """The Explorers page, opened once for this file (each test re-mounts the explorers)."""
    probe = PageProbe(browser, site)
    probe.page.goto(f"{site}/{PAGE}", wait_until="load")
    probe.page.wait_for_selector(".ccnn-explorer[data-ready]", timeout=20000)
    yield probe
    probe.close()


@pytest.fixture
def page(loaded):
    probe = loaded
    # a fresh start for every test: mount each explorer again from its embedded data
    probe.page.evaluate("""() => document.querySelectorAll('.ccnn-explorer').forEach(root => {
        root.ccnn = null; root.removeAttribute('data-ready'); window.coursecnnExplorers.mount(root); })""")
    yield probe.page
    assert probe.errors == [], f"JavaScript errors: {probe.errors}"
    assert probe.foreign == [], f"requests to other hosts: {probe.foreign}"
    assert probe.failed == [], f"failed requests: {probe.failed}"


def shoot(page, kind, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"explorer_{name}.png"
    page.locator(f".ccnn-explorer[data-kind={kind}]").first.screenshot(path=str(path))
    return path


def api(page, kind, call):
    """Evaluate ``root.ccnn.<call>`` on the first explorer of ``kind``."""
    return page.evaluate(f"() => document.querySelector('.ccnn-explorer[data-kind={kind}]').ccnn.{call}")


def conv_ref(x, k, padding=0):
    return ref.conv2d(np.asarray(x)[None, None], np.asarray(k, dtype=float)[None, None], padding=padding)[0, 0]


def test_every_explorer_starts(page):
    kinds = page.eval_on_selector_all(".ccnn-explorer", "els => els.map(e => [e.dataset.kind, !!e.ccnn && !e.ccnn.error])")
    assert sorted(kinds) == [["arithmetic", True], ["kernel", True], ["pooling", True]]


def test_kernel_explorer_equals_ref(page):
    root = page.locator(".ccnn-explorer[data-kind=kernel]")
    x = np.array(api(page, "kernel", "input()"))
    # the embedded photo is the one Python computes
    cfg = static_explorer("kernel", inline_js=False).config
    np.testing.assert_allclose(x, np.array(cfg["images"]["photo"]["data"]) / 255, atol=1e-12)
    assert x.shape == (64, 64)
    np.testing.assert_allclose(api(page, "kernel", "output()"), conv_ref(x, KERNELS["sobel_x"]), atol=1e-6)

    # edit one entry by typing into the kernel table
    root.locator("input[data-row='0'][data-col='2']").fill("2.5")
    k = np.array(KERNELS["sobel_x"])
    k[0, 2] = 2.5
    assert api(page, "kernel", "kernel()") == k.tolist()
    out = np.array(api(page, "kernel", "output()"))
    np.testing.assert_allclose(out, conv_ref(x, k), atol=1e-6)
    assert root.locator("select[name=preset]").input_value() == "custom"
    shoot(page, "kernel", "kernel_edited")

    # a preset, with padding and a 5x5 kernel
    root.locator("select[name=preset]").select_option("gaussian_blur_5x5")
    root.locator("input[name=padding]").fill("2")
    out = np.array(api(page, "kernel", "output()"))
    assert out.shape == (64, 64)
    np.testing.assert_allclose(out, conv_ref(x, KERNELS["gaussian_blur_5x5"], padding=2), atol=1e-6)
    # written as in the lecture, 1/256 x [[1, 4, 6, ...]]: a typed 100 in the centre means 100/256
    assert root.locator(".ccnn-scaled").inner_text().startswith("1/256")
    centre = root.locator("input[data-row='2'][data-col='2']")
    assert centre.input_value() == "36"
    centre.fill("100")
    k = np.array(KERNELS["gaussian_blur_5x5"])
    k[2, 2] = 100 / 256
    np.testing.assert_allclose(api(page, "kernel", "kernel()"), k, atol=1e-15)
    np.testing.assert_allclose(api(page, "kernel", "output()"), conv_ref(x, k, padding=2), atol=1e-6)
    assert api(page, "kernel", "dotProduct()").startswith("output[32, 32] = 1/256 · (1·")
    shoot(page, "kernel", "kernel_gaussian")

    # a digit: MNIST's bytes / 255
    root.locator("select[name=image]").select_option("digit_3")
    root.locator("select[name=preset]").select_option("sobel_y")
    root.locator("input[name=padding]").fill("0")
    x = np.array(api(page, "kernel", "input()"))
    np.testing.assert_allclose(x, np.array(cfg["images"]["digit_3"]["data"]) / 255, atol=1e-12)
    np.testing.assert_allclose(api(page, "kernel", "output()"), conv_ref(x, KERNELS["sobel_y"]), atol=1e-6)
    shoot(page, "kernel", "kernel_digit")


def test_kernel_explorer_spells_out_the_lecture_dot_product(page):
    root = page.locator(".ccnn-explorer[data-kind=kernel]")
    root.locator("select[name=image]").select_option("lecture")
    root.locator("select[name=preset]").select_option("lecture_example")
    out = np.array(api(page, "kernel", "output()"))
    np.testing.assert_allclose(out, conv_ref(LECTURE_IMAGE, KERNELS["lecture_example"]), atol=1e-12)
    np.testing.assert_allclose(out, LECTURE_POOL_INPUT, atol=1e-12)  # the lecture's 4x4 result
    dot = api(page, "kernel", "dotProduct()")
    assert dot == "output[0, 0] = 0·0 + 0·0 + 0.5·0 + 0·0 + 0.5·1 + 0·0 + 0·0 + 0·0 + 0.5·0 = 0.5"
    # clicking the output pixel (0, 1) in the canvas selects it: the lecture's second sum, 0.2
    canvas = root.locator("canvas").nth(1)
    box = canvas.bounding_box()
    cell = box["width"] / 4
    canvas.click(position={"x": 1.5 * cell, "y": 0.5 * cell})
    assert api(page, "kernel", "selected()") == [0, 1]
    assert api(page, "kernel", "dotProduct()").endswith("0.5·0.4 = 0.2")
    canvas.press("ArrowDown")
    canvas.press("ArrowRight")
    assert api(page, "kernel", "selected()") == [1, 2]
    assert api(page, "kernel", "dotProduct()").endswith("= 0.6")
    shoot(page, "kernel", "kernel_lecture")


def test_arithmetic_explorer_says_when_the_stride_does_not_fit(page):
    root = page.locator(".ccnn-explorer[data-kind=arithmetic]")
    for name, value in (("n", 7), ("f", 3), ("p", 0), ("s", 3), ("d", 1)):
        root.locator(f"input[name={name}]").fill(str(value))
    message = api(page, "arithmetic", "message()")
    with pytest.raises(ValueError, match="2.33") as err:
        arith.conv_output_size(7, 3, stride=3)
    assert "doesn't fit" in str(err.value)
    assert "doesn't fit" in message and "2.33" in message, message
    assert root.locator(".ccnn-warn").inner_text() == message
    assert api(page, "arithmetic", "outputSize()") == arith.conv_output_size(7, 3, stride=3, strict=False) == 2
    assert "= 2.33" in api(page, "arithmetic", "formula()")
    root.locator("button[title='next window']").click()
    root.locator("button[title='next window']").click()
    assert api(page, "arithmetic", "state()")["step"] == 2
    play = root.locator("button[title='animate the windows']")
    play.click()  # steps every 0.6 s, wrapping around the 4 windows
    page.wait_for_function(
        "() => document.querySelector('.ccnn-explorer[data-kind=arithmetic]').ccnn.state().step !== 2", timeout=5000)
    play.click()
    assert play.inner_text() == "▶ play"
    shoot(page, "arithmetic", "arithmetic_does_not_fit")


def test_arithmetic_explorer_sizes_equal_arith(page):
    for n, f, p, s, d in [(5, 3, 1, 2, 1), (7, 3, 0, 2, 1), (6, 3, 1, 1, 2), (8, 5, 2, 1, 1), (9, 3, 0, 3, 1), (10, 2, 0, 2, 1),
                          (4, 3, 0, 1, 2), (3, 5, 0, 1, 1)]:
        page.evaluate(f"() => document.querySelector('.ccnn-explorer[data-kind=arithmetic]').ccnn.set({{n: {n}, f: {f}, p: {p}, s: {s}, d: {d}, transposed: false}})")
        size = api(page, "arithmetic", "outputSize()")
        message = api(page, "arithmetic", "message()")
        try:
            assert size == arith.conv_output_size(n, f, stride=s, padding=p, dilation=d) and message == ""
        except ValueError as err:
            assert "doesn't fit" in message or "larger" in str(err), (n, f, p, s, d, message)
            if "larger" in str(err):
                assert size == 0 and "doesn't fit" in message
            else:
                assert size == arith.conv_output_size(n, f, stride=s, padding=p, dilation=d, strict=False)
    # transposed mode: the size of ref.conv_transpose2d's output
    root = page.locator(".ccnn-explorer[data-kind=arithmetic]")
    for name, value in (("n", 3), ("f", 3), ("p", 1), ("s", 2), ("d", 1)):
        root.locator(f"input[name={name}]").fill(str(value))
    root.locator("input[name=transposed]").check()
    y = ref.conv_transpose2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1)
    assert api(page, "arithmetic", "outputSize()") == y.shape[-1] == arith.transposed_conv_output_size(3, 3, 2, 1) == 5
    assert api(page, "arithmetic", "formula()").endswith("= 5")
    shoot(page, "arithmetic", "arithmetic_transposed")


POOLS = {
    "max": (ref.max_pool2d, ref.max_pool2d_backward),
    "avg": (ref.avg_pool2d, ref.avg_pool2d_backward),
}


@pytest.mark.parametrize("mode", ["max", "avg", "nmax"])
def test_pooling_explorer_equals_ref(page, mode):
    root = page.locator(".ccnn-explorer[data-kind=pooling]")
    root.locator("select[name=mode]").select_option(mode)
    for source, k, s in (("lecture", 2, 2), ("random", 3, 2), ("random", 2, 1), ("random", 3, 3)):
        root.locator("select[name=input]").select_option(source)
        root.locator("input[name=k]").fill(str(k))
        root.locator("input[name=s]").fill(str(s))
        x = np.array(api(page, "pooling", "input()"))[None, None]
        dy = np.arange(1.0, 1 + ((x.shape[-1] - k) // s + 1) ** 2).reshape(1, 1, (x.shape[-1] - k) // s + 1, -1)
        page.evaluate("dy => document.querySelector('.ccnn-explorer[data-kind=pooling]').ccnn.set({dy: dy})", dy[0, 0].tolist())
        out, dx = np.array(api(page, "pooling", "output()")), np.array(api(page, "pooling", "gradInput()"))
        if mode == "nmax":
            want = ref.nmax_pool2d(x, k, 2, stride=s)
            want_dx = ref.nmax_pool2d_backward(dy, x, k, 2, stride=s)
        else:
            forward, backward = POOLS[mode]
            want, want_dx = forward(x, k, stride=s), backward(dy, x, k, stride=s)
        np.testing.assert_allclose(out, want[0, 0], atol=1e-12, err_msg=f"{mode} {source} k={k} s={s}")
        np.testing.assert_allclose(dx, want_dx[0, 0], atol=1e-12, err_msg=f"{mode} {source} k={k} s={s} backward")
    shoot(page, "pooling", f"pooling_{mode}")


def test_pooling_explorer_lecture_example_and_messages(page):
    root = page.locator(".ccnn-explorer[data-kind=pooling]")
    assert api(page, "pooling", "output()") == [[0.5, 0.6], [0.4, 0.6]]
    root.locator(".ccnn-grid.ccnn-clickable td").nth(1).click()  # output (0, 1) = 0.6
    assert "max(0, 0.2, 0.6, 0) = 0.6" in api(page, "pooling", "explanation()")
    assert "input (1, 2)" in api(page, "pooling", "explanation()")
    root.locator("select[name=mode]").select_option("nmax")
    root.locator("input[name=n]").fill("5")
    message = api(page, "pooling", "message()")
    assert "n = 5" in message and "4 values" in message, message
    assert root.locator(".ccnn-warn").count() == 1
    root.locator("input[name=k]").fill("2")
    root.locator("input[name=n]").fill("2")
    assert api(page, "pooling", "message()") == ""
    root.locator("input[name=k]").fill("3")
    root.locator("input[name=s]").fill("3")
    # 4x4 with 3x3 windows at stride 3: one window, the last row and column are dropped (floored)
    assert "2.00" not in root.locator(".ccnn-message").inner_text()
    assert "floored to 1" in root.locator(".ccnn-message").inner_text()


def test_inline_copy_works_outside_the_book(browser, tmp_path):
    """In a notebook the output carries the component itself: a bare HTML page must work too."""
    body = "\n".join(static_explorer(kind, inline_js=True).html() for kind in ("kernel", "arithmetic", "pooling"))
    (tmp_path / "index.html").write_text(f"<!doctype html><meta charset=utf-8><body>{body}</body>", encoding="utf-8")
    server = _serve(tmp_path)
    context = browser.new_context()
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        page.wait_for_selector(".ccnn-explorer[data-ready]")
        assert page.locator(".ccnn-explorer[data-ready]").count() == 3
        assert errors == []
        x = np.array(api(page, "kernel", "input()"))
        np.testing.assert_allclose(api(page, "kernel", "output()"), conv_ref(x, KERNELS["sobel_x"]), atol=1e-6)
    finally:
        context.close()
        server.shutdown()


def test_component_arithmetic_equals_ref_on_random_cases(page):
    """The component's own conv2d, pool2d and size rule against ref/arith, many cases at once."""
    rng = np.random.default_rng(5)
    cases = []
    for _ in range(40):
        h, w, f = int(rng.integers(3, 9)), int(rng.integers(3, 9)), int(rng.integers(1, 4))
        s, p, d = int(rng.integers(1, 4)), int(rng.integers(0, 3)), int(rng.integers(1, 3))
        if d * (f - 1) + 1 > min(h, w) + 2 * p:
            continue
        cases.append({"x": rng.normal(size=(h, w)).round(3).tolist(), "k": rng.normal(size=(f, f)).round(3).tolist(),
                      "s": s, "p": p, "d": d})
    got = page.evaluate("cs => cs.map(c => window.coursecnnExplorers.conv2d(c.x, c.k, c.s, c.p, c.d))", cases)
    assert len(cases) > 20
    for c, out in zip(cases, got):
        want = ref.conv2d(np.array(c["x"])[None, None], np.array(c["k"])[None, None], stride=c["s"], padding=c["p"],
                          dilation=c["d"])[0, 0]
        np.testing.assert_allclose(np.array(out).reshape(want.shape), want, atol=1e-9, err_msg=str(c))
    grid = [(n, f, s, p, d) for n in range(1, 13) for f in range(1, 6) for s in range(1, 4) for p in range(3) for d in (1, 2)]
    sizes = page.evaluate("g => g.map(([n, f, s, p, d]) => window.coursecnnExplorers.outSize(n, f, s, p, d))", grid)
    for (n, f, s, p, d), o in zip(grid, sizes):
        try:
            want = arith.conv_output_size(n, f, stride=s, padding=p, dilation=d)
            assert o["fits"] and o["size"] == want, (n, f, s, p, d)
        except ValueError as err:
            assert not o["fits"], (n, f, s, p, d)
            if "doesn't fit" in str(err):
                assert o["size"] == arith.conv_output_size(n, f, stride=s, padding=p, dilation=d, strict=False)
                assert f"{o['exact']:.2f}" in str(err)


def _arith_verdict(size_fn, *args, **kwargs):
    """What coursecnn.arith says about one layer: ("fits", size), ("floored", size, "2.33") or ("larger",)."""
    try:
        return ("fits", size_fn(*args, **kwargs))
    except ValueError as err:
        if "larger than the padded input" in str(err):
            return ("larger",)
        exact = re.search(r"= (-?\d+\.\d\d) doesn't fit", str(err)).group(1)
        return ("floored", size_fn(*args, **kwargs, strict=False), exact)


# Every size the explorers show, driven through their own state (set() then update(), the path a
# reader's typing takes) in one page.evaluate so that ~900 layers cost about a second.
CONV_GRID = [(n, f, p, s, d) for n in (1, 2, 3, 4, 5, 7, 8, 11, 16) for f in (1, 2, 3, 5) for p in (0, 1, 3)
             for s in (1, 2, 3, 4, 8) for d in (1, 2)]
DRIVE_ARITHMETIC = """grid => {
    const root = document.querySelector('.ccnn-explorer[data-kind=arithmetic]'), msg = root.querySelector('.ccnn-message');
    return grid.map(([n, f, p, s, d, transposed]) => {
        root.ccnn.set({n: n, f: f, p: p, s: s, d: d, transposed: transposed});
        return [root.ccnn.outputSize(), root.ccnn.message(), root.ccnn.formula(), msg.textContent, msg.classList.contains('ccnn-warn')];
    });
}"""


def test_arithmetic_explorer_agrees_with_arith_on_a_grid(page):
    """outputSize(), message() and formula() of the arithmetic explorer against arith.conv_output_size."""
    got = page.evaluate(DRIVE_ARITHMETIC, [list(c) + [False] for c in CONV_GRID])
    verdicts = {"fits": 0, "floored": 0, "larger": 0}
    for (n, f, p, s, d), (size, message, formula, shown, warn) in zip(CONV_GRID, got):
        case = dict(n=n, f=f, p=p, s=s, d=d, size=size, message=message, formula=formula)
        want = _arith_verdict(arith.conv_output_size, n, f, stride=s, padding=p, dilation=d)
        verdicts[want[0]] += 1
        assert shown == message, case
        assert formula.startswith(f"o = (n + 2p − d·(f − 1) − 1) / s + 1 = ({n} + 2·{p} − {d}·({f} − 1) − 1) / {s} + 1 = "), case
        if want[0] == "fits":
            assert (size, message, warn) == (want[1], "", False), case
            assert formula.endswith(f"= {want[1]}"), case
        elif want[0] == "floored":
            assert size == want[1] and warn, case
            assert f"= {want[2]} is not a whole number" in message and f"floor it to {want[1]}:" in message, case
            assert formula.endswith("= " + want[2].rstrip("0").rstrip(".")), case
        else:
            assert size == 0 and warn and message.startswith("The kernel doesn't fit"), case
            assert f"= {n + 2 * p}." in message and f"= {d * (f - 1) + 1} pixels" in message, case
    assert min(verdicts.values()) > 50, verdicts  # each branch of arith is exercised

    # transposed mode: transposed_conv_output_size (output_padding 0)
    grid = [(n, f, p, s, d) for n in (1, 2, 3, 5) for f in (1, 2, 3, 5) for p in (0, 1, 2, 4) for s in (1, 2, 3) for d in (1, 2)]
    got = page.evaluate(DRIVE_ARITHMETIC, [list(c) + [True] for c in grid])
    drawn = 0
    for (n, f, p, s, d), (size, message, formula, shown, warn) in zip(grid, got):
        case = dict(n=n, f=f, p=p, s=s, d=d, size=size, message=message, formula=formula)
        try:
            want = arith.transposed_conv_output_size(n, f, stride=s, padding=p, dilation=d)
        except ValueError as err:
            assert "removes the whole output" in str(err), case
            want = (n - 1) * s - 2 * p + d * (f - 1) + 1  # arith's message names no size: the formula's
            assert formula.endswith(f"= {want}") and want < 1, case
            assert warn and (message.startswith("In transposed mode") and size is None
                             or message == f"The output would be empty (size {want})." and size == 0), case
            continue
        assert formula.endswith(f"= {want}"), case
        if p > d * (f - 1):  # the picture (zeros inserted, d(f-1)-p around) cannot be drawn
            assert size is None and warn and message.startswith("In transposed mode this picture needs padding"), case
        else:
            assert (size, message, warn) == (want, "", False), case
            drawn += 1
    assert drawn > 100


def test_size_rule_ties_round_like_arith(page):
    """2.125 is written 2.12 by Python (ties to even); JavaScript's toFixed would write 2.13."""
    with pytest.raises(ValueError, match=r"= 2\.12 doesn't fit"):
        arith.conv_output_size(10, 1, stride=8)
    assert page.evaluate("() => window.coursecnnExplorers.outSize(10, 1, 8, 0, 1).exact2") == "2.12"
    assert "= 2.12 is not a whole number" in page.evaluate(DRIVE_ARITHMETIC, [[10, 1, 0, 8, 1, False]])[0][1]


def test_pooling_explorer_agrees_with_arith_on_a_grid(page):
    """The pooling explorer's size note (poolNote, what update() shows) against arith.pool_output_size."""
    grid = [(h, w, k, s) for h in range(1, 10) for w in (h, h + 1, 7) for k in range(1, 6) for s in (1, 2, 3, 4, 8)]
    got = page.evaluate("g => g.map(([h, w, k, s]) => window.coursecnnExplorers.poolNote(h, w, k, s))", grid)
    verdicts = set()
    for (h, w, k, s), note in zip(grid, got):
        case = dict(h=h, w=w, k=k, s=s, note=note)
        vh, vw = (_arith_verdict(arith.pool_output_size, n, k, stride=s) for n in (h, w))
        verdicts |= {vh[0], vw[0]}
        if "larger" in (vh[0], vw[0]):
            assert note["size"] is None and note["warn"], case
            assert note["text"] == f"The {k}×{k} window is larger than the {h}×{w} input: no output.", case
            continue
        assert note["size"] == [vh[1], vw[1]] and not note["warn"], case
        if vh[0] == vw[0] == "fits":
            assert note["text"] == "", case
        else:
            n, v = (h, vh) if vh[0] == "floored" else (w, vw)  # the axis that does not tile
            assert f"({n} − {k})/{s} + 1 = {v[2]}, floored to {v[1]} like PyTorch" in note["text"], case
    assert verdicts == {"fits", "floored", "larger"}
    # and update() shows that note: every window and stride the controls allow, on both inputs
    root = page.locator(".ccnn-explorer[data-kind=pooling]")
    shown = page.evaluate("""() => {
        const root = document.querySelector('.ccnn-explorer[data-kind=pooling]'), out = [];
        for (const input of ['lecture', 'random']) for (let k = 1; k <= 4; k++) for (let s = 1; s <= 4; s++) {
            root.ccnn.set({input: input, mode: 'max', k: k, s: s});
            const x = root.ccnn.input(), y = root.ccnn.output();
            out.push([x.length, x[0].length, k, s, y.length, y.length ? y[0].length : 0,
                      root.querySelector('.ccnn-message').textContent]);
        }
        return out;
    }""")
    assert root.count() == 1 and len(shown) == 32
    for h, w, k, s, oh, ow, text in shown:
        note = page.evaluate("a => window.coursecnnExplorers.poolNote(...a)", [h, w, k, s])
        assert text == note["text"], (h, w, k, s, text)
        if note["size"] is None:
            assert (oh, ow) == (0, 0)
        else:
            assert [oh, ow] == note["size"] == [arith.pool_output_size(n, k, stride=s, strict=False) for n in (h, w)]
