"""Open every page of the built book with the network cut off and check what a reader sees."""

import pytest

from conftest import HTML, ROOT, screenshot

PAGES = sorted(
    str(p.relative_to(HTML))
    for p in HTML.rglob("*.html")
    if "_static" not in p.parts and "_sources" not in p.parts
) if HTML.exists() else []

# Pages that Sphinx generates for its own machinery carry no content of ours.
CONTENT_PAGES = [p for p in PAGES if p not in ("genindex.html", "search.html")]

WAIT_FOR_MATH = """async () => {
  if (!window.MathJax || !window.MathJax.startup) return 'no-mathjax';
  await window.MathJax.startup.promise;
  return 'ok';
}"""


def test_the_book_has_pages():
    assert "index.html" in PAGES
    chapters = (ROOT / "_toc.yml").read_text().count("- file: chapters/")
    assert len([p for p in PAGES if p.startswith("chapters/")]) == chapters, PAGES


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_page_works_offline(probe, path):
    page = probe.open(path)
    has_math = page.locator(".math").count() > 0
    if has_math:
        assert page.evaluate(WAIT_FOR_MATH) == "ok", f"{path}: MathJax did not load"
        assert page.locator("mjx-container").count() > 0, f"{path}: math is not typeset"
        raw = page.locator(".math:not(:has(mjx-container))").count()
        assert raw == 0, f"{path}: {raw} formulas left as raw TeX"
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert broken == [], f"{path}: images that did not load: {broken}"
    screenshot(page, path.replace("/", "__").removesuffix(".html"))
    assert probe.foreign == [], f"{path}: requests to other hosts: {probe.foreign}"
    assert probe.failed == [], f"{path}: failed requests: {probe.failed}"
    assert probe.errors == [], f"{path}: JavaScript errors: {probe.errors}"


def test_saved_widgets_render(probe):
    """Pages with ipywidgets outputs must draw them from the vendored HTML manager."""
    widget_pages = [
        p for p in CONTENT_PAGES
        if "application/vnd.jupyter.widget-view+json" in (HTML / p).read_text(encoding="utf-8")
    ]
    assert widget_pages, "no page of the book carries a saved widget"
    for path in widget_pages:
        page = probe.open(path)
        page.wait_for_selector(".jupyter-widgets, .widget-container, .lm-Widget", timeout=20000)
        assert page.locator(".jupyter-widgets").count() > 0, f"{path}: widget not rendered"
    assert probe.foreign == [], f"requests to other hosts: {probe.foreign}"
    assert probe.failed == [], f"failed requests: {probe.failed}"
