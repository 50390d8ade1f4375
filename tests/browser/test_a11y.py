"""What a reader meets on a laptop (1280 px) and on a phone (390 px), in the light and the dark
theme, with every details element (checks, answers) open: an accessibility audit with axe-core
(vendored, run offline; WCAG 2.x A/AA and best practice, any finding fails), nothing clipped or
pushed off the column, no table column narrower than its longest word, every figure and table in
the accessibility tree, phone navigation that opens and closes, and figures with real and distinct
alternative text and captions.

One Chromium context per width opens every page once; the checks read from that one visit.
The counts per page and impact are written to ``_build/a11y/axe.json`` (and ``axe.md``), so a
build can be compared with an earlier one.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import HTML, ROOT, SHOTS, PageProbe


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
REPORT = ROOT / "_build" / "a11y"
WIDTHS = {"laptop": (1280, 900), "phone": (390, 844)}
THEMES = ("light", "dark")
# The WCAG 2.x A and AA rules and axe's best practices: a finding of any impact fails.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# At 390 px the article's markup and colours are those audited at 1280 px; what the width changes
# inside it is which boxes scroll (they must take the keyboard and carry distinct names).
PHONE_ARTICLE_RULES = ["scrollable-region-focusable", "landmark-unique", "region", "aria-allowed-role"]
# The page whose code blocks get the full colour-contrast check (the same Pygments colours are on every page).
CODE_CONTRAST_PAGE = "chapters/pooling.html"
# Rules we cannot fix from our side, each with the upstream issue. Only these ids are skipped.
THEME_RULES = {}

PAGES = sorted(
    str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
    if "_static" not in p.parts and "_sources" not in p.parts and "vendor" not in p.parts
) if HTML.exists() else []
CONTENT_PAGES = [p for p in PAGES if p not in ("genindex.html", "search.html")]

# Inside the article, an element whose right edge passes the column's (more than a pixel) is cut
# off or pushes the page sideways, unless a box between them scrolls sideways. An element that
# hides overflow (overflow-x hidden or clip) while its content is wider than it is clipped.
LAYOUT_PROBE = r"""() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  if (!article) return {error: 'no article'};
  const right = article.getBoundingClientRect().right;
  const label = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = (el.getAttribute('class') || '').trim().split(/\s+/).filter(Boolean).slice(0, 3);
    if (cls.length) s += '.' + cls.join('.');
    const sec = el.closest('section[id]');
    if (sec) s += ' in section#' + sec.id;
    const text = (el.innerText || el.getAttribute('alt') || '').trim().replace(/\s+/g, ' ');
    if (text) s += ' "' + text.slice(0, 50) + '"';
    return s;
  };
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== article.parentElement; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'auto' || ox === 'scroll') return a;
    }
    return null;
  };
  const out = {overflow: [], clipped: [], codeScroll: 0, codeBlocks: 0, silentScroll: [],
               pageScroll: document.documentElement.scrollWidth - window.innerWidth};
  // A display equation that scrolls shows that it continues (the scroll shadows of ccnn-book.css).
  for (const el of article.querySelectorAll('div.math, mjx-container[display="true"]')) {
    if (el.scrollWidth > el.clientWidth + 1 && !/gradient/.test(getComputedStyle(el).backgroundImage)) {
      out.silentScroll.push(label(el) + ' (' + (el.scrollWidth - el.clientWidth) + ' px out of view)');
    }
  }
  const wide = 'table, pre, img, svg, canvas, figure, mjx-container[display="true"], .ccnn-explorer, .cell_output > .output';
  for (const el of article.querySelectorAll(wide)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || el.closest('details:not([open])')) continue;
    const box = scrolls(el);
    if (box) {
      if (box.getBoundingClientRect().right > right + 1) out.overflow.push(label(box));
    } else if (r.right > right + 1) {
      out.overflow.push(label(el) + ' (' + Math.round(r.right - right) + ' px past the column)');
    }
  }
  for (const el of article.querySelectorAll('*')) {
    const st = getComputedStyle(el);
    if ((st.overflowX === 'hidden' || st.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 2
        && el.clientWidth > 0 && !el.closest('mjx-assistive-mml, .visually-hidden')) {
      out.clipped.push(label(el) + ' (' + (el.scrollWidth - el.clientWidth) + ' px hidden)');
    }
  }
  out.code = [];
  for (const pre of article.querySelectorAll('div.highlight pre')) {
    if (pre.closest('details:not([open])') || pre.closest('.cell_output')) continue;
    const cell = pre.closest('div.cell');
    out.code.push({scroll: pre.scrollWidth > pre.clientWidth + 1, text: pre.innerText.slice(0, 300),
                   exercise: !!(cell && cell.classList.contains('tag_skip-execution'))});
  }
  out.codeBlocks = out.code.length;
  out.codeScroll = out.code.filter(c => c.scroll).length;
  return out;
}"""

# Every table cell against its longest word: a word (split at spaces and after hyphens) laid out on
# more than one line, or wider than the cell's content box, means a column narrower than the word.
# Formulas (MathJax) count as words.
TABLE_PROBE = r"""() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const out = {cells: 0, narrowest: null, problems: []};
  for (const cell of article.querySelectorAll('table td, table th')) {
    const r = cell.getBoundingClientRect();
    if (r.width === 0 || cell.closest('details:not([open])')) continue;
    out.cells += 1;
    const st = getComputedStyle(cell);
    const left = r.left + parseFloat(st.paddingLeft) + parseFloat(st.borderLeftWidth);
    const right = r.right - parseFloat(st.paddingRight) - parseFloat(st.borderRightWidth);
    const where = (cell.closest('section[id]') || {}).id || '?';
    if (!out.narrowest || r.width < out.narrowest.width) {
      out.narrowest = {width: Math.round(r.width * 10) / 10, text: cell.textContent.trim().slice(0, 40), section: where};
    }
    const words = [];
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (t.parentElement.closest('mjx-container, .visually-hidden, script, style')) continue;
      const re = /[^\s\u2013-]+[\u2013-]?/g;
      for (let m = re.exec(t.data); m; m = re.exec(t.data)) {
        const range = document.createRange();
        range.setStart(t, m.index); range.setEnd(t, m.index + m[0].length);
        const rects = Array.from(range.getClientRects()).filter(x => x.width > 0.5);
        if (rects.length) words.push({word: m[0], rects});
      }
    }
    for (const m of cell.querySelectorAll('mjx-container')) words.push({word: 'formula', rects: [m.getBoundingClientRect()]});
    for (const w of words) {
      const lo = Math.min(...w.rects.map(x => x.left)), hi = Math.max(...w.rects.map(x => x.right));
      const lines = new Set(w.rects.map(x => Math.round(x.top))).size;
      if (lines > 1 || lo < left - 1 || hi > right + 1) {
        out.problems.push(`"${w.word}" in a ${Math.round(right - left)} px cell of section#${where}` +
                          (lines > 1 ? ` (broken over ${lines} lines)` : ` (${Math.round(hi - lo)} px wide)`));
      }
    }
  }
  return out;
}"""

# Figures and tables a reader of the chapter must get: none inert, hidden from assistive
# technology or not rendered.
TREE_PROBE = r"""() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const out = [];
  for (const el of article.querySelectorAll('figure, table, img')) {
    if (el.closest('.widget-subarea')) continue;  // a saved widget's own parts (made inert on purpose)
    const why = el.closest('[inert]') ? 'inert' : el.closest('[aria-hidden="true"]') ? 'aria-hidden'
      : !el.checkVisibility({visibilityProperty: true}) ? 'not rendered' : null;
    if (why) {
      const cap = el.querySelector('figcaption, caption');
      out.push(`${el.tagName.toLowerCase()} "${((cap && cap.textContent) || el.getAttribute('alt') || el.textContent || '').trim().slice(0, 60)}" is ${why}`);
    }
  }
  return out;
}"""

OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"
SET_THEME = """(theme) => {
  const html = document.documentElement;
  html.dataset.mode = theme; html.dataset.theme = theme;
  window.ccnnBook && window.ccnnBook.refresh();
  return getComputedStyle(document.body).backgroundColor;
}"""

RUN_AXE = """async ([tags, off, context]) => {
  const rules = {};
  for (const id of off) rules[id] = {enabled: false};
  const r = await axe.run(context || document, {runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' -- ' + n.failureSummary.split('\\n').slice(1, 2).join('') : ''))}));
}"""
RUN_AXE_RULE = """async ([rule, context]) => {
  const r = await axe.run(context, {runOnly: {type: 'rule', values: [].concat(rule)}, resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' -- ' + n.failureSummary.split('\\n').slice(1, 2).join('') : ''))}));
}"""


class Visit:
    """A Chromium context at one width, for the checks that drive a page."""

    def __init__(self, browser, site, width):
        self.probe = PageProbe(browser, site)
        self.probe.context.close()
        w, h = WIDTHS[width]
        self.probe.context = browser.new_context(viewport={"width": w, "height": h})
        self.probe.context.route("**/*", self.probe._route)
        self.probe.page = self.probe.context.new_page()
        self.page = self.probe.page


class Audit:
    """Every page opened once at each width, in two pages of the same browser: axe runs in the
    1280 px page while the 390 px page is audited, so the two widths use two cores."""

    def __init__(self, browser, site):
        self.laptop = Visit(browser, site, "laptop")
        self.phone = Visit(browser, site, "phone")
        self.visit = self.laptop
        self.results = {}

    @staticmethod
    def _load(visit, path):
        page = visit.page
        page.goto(f"{visit.probe.base}/{path}", wait_until="load", timeout=120_000)
        if page.locator("meta[http-equiv=refresh]").count():  # index.html forwards to the intro
            page.wait_for_load_state("networkidle", timeout=120_000)
        # The book's script (landmarks, names, table boxes) has run on the page we audit, not on
        # the one index.html forwarded from.
        page.wait_for_function("() => !!(window.ccnnBook && document.querySelector('.bd-article'))",
                               timeout=60_000)
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        if page.locator(".ccnn-explorer").count():
            page.wait_for_selector(".ccnn-explorer[data-ready]", timeout=20_000)
        if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
            page.wait_for_selector(".jupyter-widgets", timeout=20_000)
        page.evaluate(OPEN_DETAILS)
        # (the theme fades colours on a theme change: audit the colours, not a frame of the fade)
        page.add_style_tag(content="*, *::before, *::after { transition: none !important; animation: none !important; }")
        page.add_script_tag(path=str(AXE))
        page.evaluate("() => window.ccnnBook && window.ccnnBook.refresh()")
        return page

    def result(self, path):
        if path not in self.results:
            off = sorted(THEME_RULES)
            laptop = self._load(self.laptop, path)
            # Start the 1280 px audit and let it run while the phone page loads and is audited.
            # Code blocks are thousands of highlighted tokens in the same few colours on every
            # page: their contrast is checked in full on CODE_CONTRAST_PAGE only.
            context = None if path == CODE_CONTRAST_PAGE else {"exclude": [["div.highlight pre"]]}
            laptop.evaluate("(args) => { window.__ccnnAxe = (" + RUN_AXE + ")(args); }", [AXE_TAGS, off, context])
            phone = self._load(self.phone, path)
            outside = {"exclude": [["article.bd-article"]]}
            phone_violations = {"light": phone.evaluate(RUN_AXE, [AXE_TAGS, off, outside])
                                + phone.evaluate(RUN_AXE_RULE, [PHONE_ARTICLE_RULES, "article.bd-article"])}
            phone_layout = phone.evaluate(LAYOUT_PROBE)
            phone_tables = phone.evaluate(TABLE_PROBE)
            phone.evaluate(SET_THEME, "dark")
            phone_violations["dark"] = phone.evaluate(RUN_AXE, [AXE_TAGS, off, outside])
            phone.evaluate(SET_THEME, "light")
            laptop_violations = {"light": laptop.evaluate("() => window.__ccnnAxe")}
            if context is not None:  # the code blocks' other rules (scrolling boxes) at 1280 px
                laptop_violations["light"] += laptop.evaluate(RUN_AXE_RULE, ["scrollable-region-focusable", "article.bd-article"])
            laptop.evaluate(SET_THEME, "dark")
            laptop_violations["dark"] = laptop.evaluate(RUN_AXE, [AXE_TAGS, off, context])
            laptop.evaluate(SET_THEME, "light")
            self.results[path] = {
                "laptop": {"violations": laptop_violations, "layout": laptop.evaluate(LAYOUT_PROBE),
                           "tables": laptop.evaluate(TABLE_PROBE), "hidden": laptop.evaluate(TREE_PROBE)},
                "phone": {"violations": phone_violations, "layout": phone_layout, "tables": phone_tables},
            }
        return self.results[path]


@pytest.fixture(scope="module")
def audit(browser, site):
    a = Audit(browser, site)
    yield a
    _write_report(a.results)
    a.laptop.probe.context.close()
    a.phone.probe.context.close()


@pytest.fixture(scope="module")
def visits(browser, site):
    v = {name: Visit(browser, site, name) for name in WIDTHS}
    yield v
    for visit in v.values():
        visit.probe.context.close()


def _write_report(results):
    REPORT.mkdir(parents=True, exist_ok=True)
    table = {}
    for path, widths in results.items():
        for width, res in widths.items():
            for theme, violations in res["violations"].items():
                counts = {}
                for v in violations:
                    counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
                table.setdefault(path, {})[f"{width} {theme}"] = {
                    "counts": counts, "violations": violations,
                    "code_blocks": res["layout"].get("codeBlocks"), "code_blocks_scrolling": res["layout"].get("codeScroll"),
                    "narrowest_table_cell": (res.get("tables") or {}).get("narrowest")}
    (REPORT / "axe.json").write_text(json.dumps(table, indent=1))
    lines = ["| page | width, theme | critical | serious | moderate | minor | code blocks scrolling | narrowest table cell (px) |",
             "|---|---|---|---|---|---|---|---|"]
    for path in sorted(table):
        for width, row in table[path].items():
            c = row["counts"]
            narrow = (row["narrowest_table_cell"] or {}).get("width", "")
            lines.append(f"| {path} | {width} | {c.get('critical', 0)} | {c.get('serious', 0)} | "
                         f"{c.get('moderate', 0)} | {c.get('minor', 0)} | {row['code_blocks_scrolling']}/{row['code_blocks']} | {narrow} |")
    (REPORT / "axe.md").write_text("\n".join(lines) + "\n")


def test_axe_is_vendored():
    assert AXE.is_file() and AXE.stat().st_size > 100_000, f"axe-core missing at {AXE}: run tools/vendor_axe.sh"


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_no_axe_finding(audit, path, width, theme):
    found = audit.result(path)[width]["violations"][theme]
    lines = [f"{v['impact']} {v['id']} ({v['help']}): " + "; ".join(v["nodes"][:4]) for v in found]
    assert not found, f"{path} at {WIDTHS[width][0]} px, {theme} theme:\n  " + "\n  ".join(lines)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_nothing_clipped_or_past_the_column(audit, path, width):
    layout = audit.result(path)[width]["layout"]
    assert "error" not in layout, f"{path}: {layout}"
    problems = [f"past the column: {x}" for x in layout["overflow"]] + [f"clipped: {x}" for x in layout["clipped"]]
    problems += [f"scrolls with no sign that it continues: {x}" for x in layout["silentScroll"]]
    if layout["pageScroll"] > 0:
        problems.append(f"the page scrolls sideways by {layout['pageScroll']} px (every details element open)")
    assert not problems, f"{path} at {WIDTHS[width][0]} px:\n  " + "\n  ".join(problems[:12])


@pytest.mark.parametrize("path", [p for p in CONTENT_PAGES if p.startswith("chapters/")])
def test_code_fits_the_column_on_a_laptop(audit, path):
    """Code blocks of the chapters (prose, cells, exercises, included package code) fit at
    1280 px."""
    layout = audit.result(path)["laptop"]["layout"]
    scrolling = [c for c in layout["code"] if c["scroll"]]
    assert not scrolling, (f"{path}: {len(scrolling)} code blocks scroll sideways at 1280 px, e.g. "
                           f"{scrolling[0]['text'][:80]!r}")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_no_table_column_narrower_than_its_longest_word(audit, path, width):
    tables = audit.result(path)[width]["tables"]
    assert not tables["problems"], (f"{path} at {WIDTHS[width][0]} px: {len(tables['problems'])} words do not fit "
                                    f"their column:\n  " + "\n  ".join(tables["problems"][:12]))


@pytest.mark.parametrize("path", [p for p in CONTENT_PAGES if p.startswith("chapters/")])
def test_every_figure_and_table_is_in_the_accessibility_tree(audit, path):
    hidden = audit.result(path)["laptop"]["hidden"]
    assert not hidden, f"{path}:\n  " + "\n  ".join(hidden)


def _visible(page, selector):
    return page.evaluate("""(sel) => Array.from(document.querySelectorAll(sel)).some(el => {
        const r = el.getBoundingClientRect(), st = getComputedStyle(el);
        return r.width > 50 && r.height > 50 && r.right > 0 && r.left < window.innerWidth
               && st.visibility !== 'hidden' && st.display !== 'none'; })""", selector)


def test_phone_menu_and_contents_open(visits):
    """At 390 px the menu button opens the book's contents and the contents button the page's."""
    page = _open(visits["phone"], "chapters/pooling.html")
    # On a phone the theme (pydata-sphinx-theme 0.16) opens the book's contents as a modal dialog.
    menu_box, contents_box = "#pst-primary-sidebar-modal[open]", "#pst-secondary-sidebar-modal[open]"
    assert not _visible(page, menu_box), "the menu is open before it is asked for"
    menu = page.locator(".primary-toggle:visible").first
    menu.click()
    page.wait_for_timeout(400)
    assert _visible(page, menu_box), "the menu button opened nothing"
    assert page.locator(f"{menu_box} a[href*='architectures']").first.is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone_menu_open.png"))
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert not _visible(page, menu_box), "Escape does not close the menu"
    contents = page.locator(".secondary-toggle:visible").first
    contents.click()
    page.wait_for_timeout(400)
    assert _visible(page, contents_box), "the contents button opened nothing"
    assert page.locator(f"{contents_box} a[href='#the-backward-pass']").first.is_visible()
    page.screenshot(path=str(SHOTS / "phone_contents_open.png"))
    # picking an entry closes the panel and shows the section
    page.locator(f"{contents_box} a[href='#the-backward-pass']").first.click()
    page.wait_for_timeout(400)
    assert not _visible(page, contents_box), "the contents panel stays open after an entry was picked"
    try:  # (the theme scrolls smoothly, and pictures load on the way)
        page.wait_for_function("() => { const t = document.getElementById('the-backward-pass').getBoundingClientRect().top;"
                               " return t > -10 && t < 400; }", timeout=8_000)
    except Exception:
        top = page.evaluate("() => document.getElementById('the-backward-pass').getBoundingClientRect().top")
        raise AssertionError(f"the picked section is not in view (its top is at {top} px)") from None


# ---- figures: checked in the built HTML, no browser needed --------------------------------------

class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("figure", "figcaption", "section"):
            self.stack.append((tag, attrs.get("id")))
        if tag == "img":
            where = [t for t in self.stack if t[0] == "section" and t[1]]
            self.images.append({"alt": attrs.get("alt"), "src": attrs.get("src", ""),
                                "in_figure": any(t[0] == "figure" for t in self.stack),
                                "section": where[-1][1] if where else "?"})

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def bad_alt(alt, src):
    """Why this alt text does not describe a picture (None when it does)."""
    if alt is None:
        return "no alt attribute"
    a = alt.strip()
    if not a:
        return "empty alt"
    if re.search(r"\.(png|svg|jpe?g|gif)$", a, re.I) or "_images/" in a or a == src:
        return f"a file name as alt ({a!r})"
    if len(a.split()) < 4:
        return f"too short to describe anything ({a!r})"
    return None


CHAPTERS = [p for p in CONTENT_PAGES if p.startswith("chapters/")]


@pytest.mark.parametrize("path", CHAPTERS)
def test_every_figure_has_alt_text_and_a_caption(path):
    parser = _Images()
    parser.feed((HTML / path).read_text(encoding="utf-8"))
    problems = []
    for img in parser.images:
        if "_images/" not in img["src"]:
            continue  # logos and icons of the theme
        why = bad_alt(img["alt"], img["src"])
        if why:
            problems.append(f"{img['src']} in section#{img['section']}: {why}")
        elif not img["in_figure"]:
            problems.append(f"{img['src']} in section#{img['section']}: no caption (not in a <figure>)")
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


class _FigureText(HTMLParser):
    """Each <figure>'s caption (without its "Fig. N" number) and its pictures' alt texts."""

    def __init__(self):
        super().__init__()
        self.figures, self.depth, self.in_caption = [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self.depth += 1
            if self.depth == 1:
                self.figures.append({"caption": "", "alts": []})
        elif self.depth and tag == "figcaption":
            self.in_caption = True
        elif self.depth and tag == "img" and "_images/" in attrs.get("src", ""):
            self.figures[-1]["alts"].append((attrs.get("alt") or "").strip())
        elif self.in_caption and tag == "a" and "headerlink" in (attrs.get("class") or ""):
            self.in_caption = "link"

    def handle_endtag(self, tag):
        if tag == "figure" and self.depth:
            self.depth -= 1
        elif tag == "figcaption":
            self.in_caption = False
        elif tag == "a" and self.in_caption == "link":
            self.in_caption = True

    def handle_data(self, data):
        if self.in_caption is True:
            self.figures[-1]["caption"] += data


def shared_figure_text(pages):
    """{text: [where, ...]} for every caption or alt text that more than one figure carries."""
    seen = {}
    for page, figures in pages.items():
        for k, fig in enumerate(figures, 1):
            caption = re.sub(r"^\s*Fig\.\s*[\d.]+\s*", "", " ".join(fig["caption"].split()))
            for kind, text in [("caption", caption)] + [("alt", a) for a in fig["alts"]]:
                if text:
                    seen.setdefault((kind, text), set()).add(f"{page} figure {k}")
    return {f"{kind} {text[:70]!r}": sorted(where) for (kind, text), where in seen.items() if len(where) > 1}


def test_no_two_figures_share_a_caption_or_alt_text():
    pages = {}
    for path in CHAPTERS:
        parser = _FigureText()
        parser.feed((HTML / path).read_text(encoding="utf-8"))
        pages[path] = parser.figures
    assert sum(len(f) for f in pages.values()) > 20, "found almost no figures: did the HTML change?"
    shared = shared_figure_text(pages)
    assert not shared, "figures that share their words:\n  " + "\n  ".join(f"{k}: {v}" for k, v in shared.items())


def test_the_shared_figure_text_check_can_fail():
    a = {"caption": "Fig. 16 The window of output (0, 0).", "alts": ["Three grids"]}
    b = {"caption": "Fig. 17 The window of output (0, 0).", "alts": ["Three grids, moved"]}
    assert list(shared_figure_text({"c.html": [a, b]})) == ["caption 'The window of output (0, 0).'"]
    assert shared_figure_text({"c.html": [a], "d.html": [dict(a, caption="Fig. 2 Other")]}) == {
        "alt 'Three grids'": ["c.html figure 1", "d.html figure 1"]}


def test_pages_load_only_what_they_use():
    """The widget manager only where an output shows a widget; no fontawesome.js anywhere (the
    theme's stylesheet draws its icons); index.html names its icon."""
    wrong = []
    for path in PAGES:
        text = (HTML / path).read_text(encoding="utf-8")
        if "html-manager/embed-amd.js" in text and "application/vnd.jupyter.widget-view+json" not in text:
            wrong.append(f"{path}: loads the widget manager but shows no widget")
        if "fontawesome.js" in text:
            wrong.append(f"{path}: loads fontawesome.js")
    assert not wrong, "\n  ".join(wrong)
    assert 'rel="icon"' in (HTML / "index.html").read_text(encoding="utf-8"), "index.html has no icon"
    assert any("embed-amd.js" in (HTML / p).read_text(encoding="utf-8") for p in PAGES), \
        "no page loads the widget manager: the explorers' saved widgets would not render"


def test_the_alt_text_check_can_fail():
    assert bad_alt("../_images/abc.png", "../_images/abc.png")
    assert bad_alt(None, "x.png") and bad_alt("", "x.png") and bad_alt("figure", "x.png")
    assert bad_alt("Four grids: a 4 by 4 input and its 2 by 2 max pool", "x.png") is None


# ---- what a phone shows, and the controls of the static book ------------------------------------

def _open(visit, path):
    page = visit.page
    page.goto(f"{visit.probe.base}/{path}", wait_until="load", timeout=120_000)
    page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
    page.evaluate("() => window.ccnnBook && window.ccnnBook.refresh()")
    return page


def _shot_in_page(page, locator, name):
    """A picture of an element as it lies in the page, without the sticky header drawn over it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    box = page.evaluate("""(el) => { const r = el.getBoundingClientRect();
        return {x: 0, y: r.top + window.scrollY - 8, width: window.innerWidth, height: r.height + 16}; }""",
                        locator.element_handle())
    page.screenshot(path=str(SHOTS / name), full_page=True, clip=box,
                    style=".bd-header-article, .skip-link, header.bd-header { visibility: hidden !important; }")


def test_phone_keeps_every_column_of_alexnet_and_readable_strips(visits):
    """At 390 px AlexNet's summary keeps params and mult-adds in view, and a figure strip keeps
    panels of a readable size (it scrolls sideways in its own box)."""
    page = _open(visits["phone"], "chapters/architectures.html")
    table = page.locator("table.coursecnn-summary", has_text="227x227x3").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    for text in ("1,135,256,", "62,378,344", "mult-adds"):
        cell = table.locator("th, td", has_text=text).first
        b = cell.bounding_box()
        assert b and b["x"] >= 0 and b["x"] + b["width"] <= 391, f"{text!r} is outside the screen: {b}"
    _shot_in_page(page, table, "phone_alexnet_table.png")
    page = _open(visits["phone"], "chapters/convolution.html")
    strips = page.locator("img.ccnn-strip")
    assert strips.count() > 0, "no figure strip found on the convolution page"
    heights = [strips.nth(k).bounding_box()["height"] for k in range(strips.count())]
    # a strip of roughly square panels keeps them over 100 px tall (at 390 px wide a 6-panel
    # strip squeezed to the screen would be about 55 px)
    assert min(heights) >= 100, f"figure strips shrunk on a phone: panel heights {heights}"
    # every figure opens full size on a tap (text drawn in a figure may be small on a phone)
    unlinked = page.evaluate("""() => Array.from(document.querySelectorAll('article figure img'))
        .filter(i => { const a = i.closest('a.ccnn-full'); return !a || a.getAttribute('href') !== i.getAttribute('src'); })
        .map(i => i.getAttribute('src'))""")
    assert not unlinked, f"figures that do not open full size: {unlinked}"
    widest = max(range(strips.count()), key=lambda k: strips.nth(k).bounding_box()["width"])
    _shot_in_page(page, page.locator(".ccnn-strip-box").nth(widest).locator("xpath=ancestor::figure[1]"),
                  "phone_figure_strip.png")


@pytest.mark.parametrize("path", ["chapters/pooling.html", "explorers.html"])
def test_saved_widgets_say_they_need_a_kernel_and_take_no_input(visits, path):
    page = _open(visits["laptop"], path)
    page.wait_for_selector(".jupyter-widgets", timeout=20_000)
    page.evaluate("() => window.ccnnBook.refresh()")
    outputs = page.locator(".cell_output:has(.jupyter-widgets input, .jupyter-widgets .noUi-target, "
                           ".jupyter-widgets select, .jupyter-widgets button)")
    assert outputs.count() > 0, f"{path}: no saved ipywidget with controls (did the page change?)"
    for k in range(outputs.count()):
        out = outputs.nth(k)
        assert "Run this notebook to use it" in out.inner_text(), f"{path}: widget {k} has no note"
        live = out.evaluate("o => Array.from(o.querySelectorAll('input, select, button, [role=slider]'))"
                            ".filter(e => !e.closest('[inert]')).length")
        assert live == 0, f"{path}: widget {k} still has {live} controls that take input"


def test_pooling_explorer_works_from_the_keyboard(visits):
    page = _open(visits["laptop"], "explorers.html")
    page.wait_for_selector(".ccnn-explorer[data-ready]", timeout=20_000)
    root = page.locator(".ccnn-explorer[data-kind=pooling]")
    first = root.locator("button.ccnn-cellbtn").first
    first.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    picked = page.evaluate("() => document.activeElement.getAttribute('aria-pressed')")
    assert picked == "true", "Enter on an output cell did not pick it (or focus was lost)"
    assert "y[0, 1]" in page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    for kind in ("kernel", "arithmetic"):
        labelled = page.evaluate(f"""() => Array.from(document.querySelectorAll(
            '.ccnn-explorer[data-kind={kind}] canvas, .ccnn-explorer[data-kind={kind}] svg[role=img]'))
            .every(e => (e.getAttribute('aria-label') || '').length > 30)""")
        assert labelled, f"the {kind} explorer has a picture without a text alternative"


def test_kernel_explorer_announces_the_result_and_keeps_the_sum_on_demand(visits):
    """A screen reader hears "output[r, c] = v" on each arrow key, not the 9 to 25 products; the
    products stay readable in the text under the pictures."""
    page = _open(visits["laptop"], "explorers.html")
    page.wait_for_selector(".ccnn-explorer[data-ready]", timeout=20_000)
    root = page.locator(".ccnn-explorer[data-kind=kernel]").first
    root.locator("canvas.ccnn-clickable").focus()
    page.keyboard.press("ArrowRight")
    live = root.evaluate("r => Array.from(r.querySelectorAll('[aria-live]')).filter(e => e.textContent.trim())"
                         ".map(e => e.textContent)")
    assert len(live) == 1 and re.fullmatch(r"output\[\d+, \d+\] = -?[\d.]+", live[0]), live
    dot = root.locator(".ccnn-dot").inner_text()
    assert dot.count("\u00b7") >= 9 and live[0].split(" = ")[0] in dot, dot


def test_the_audit_and_the_layout_probe_can_fail(audit):
    """Negative controls on a real page, in each theme: an image without alt text, an unlabelled
    input, text in the theme's border colour (too faint in light and in dark), two regions with one
    name, an empty header cell, a table wider than the column, a box that hides what it holds, a
    word broken inside a narrow column, an inert figure and an equation that scrolls without a
    shadow are all reported, by name."""
    audit.result("intro.html")
    page = audit.laptop.page
    page.evaluate("""() => {
      const a = document.querySelector('article.bd-article');
      const div = document.createElement('div');
      div.id = 'ccnn-bad';
      div.innerHTML = '<img src="_static/favicon.svg" id="bad-img"><input type="text" id="bad-input">' +
        '<p id="bad-contrast" style="color: var(--pst-color-border); background: var(--pst-color-background)">faint</p>' +
        '<div role="region" aria-label="same" tabindex="0">one</div><div role="region" aria-label="same" tabindex="0">two</div>' +
        '<table id="bad-table" style="width: 2000px"><tr><td>wide</td></tr></table>' +
        '<table id="bad-words" style="width: 60px; table-layout: fixed"><tr><td style="overflow-wrap: anywhere">' +
        'incomprehensibilities</td></tr></table>' +
        '<figure id="bad-fig" inert><img src="_static/favicon.svg" alt="a grid of grey squares"><figcaption>hidden</figcaption></figure>' +
        '<div class="math" id="bad-eq" style="background: none"><span style="display: inline-block; min-width: 3000px">x</span></div>' +
        '<div id="bad-clip" style="overflow: hidden; width: 50px; white-space: nowrap">' +
        'a long line of text that cannot be seen in fifty pixels</div>';
      a.appendChild(div);
      // (outside the article, where ccnn-book.js would turn the empty header cell into a data cell)
      const out = document.createElement('div');
      out.id = 'ccnn-bad-outside';
      out.innerHTML = '<table id="bad-empty"><tr><th></th><th>a</th></tr><tr><td>b</td><td>c</td></tr></table>';
      document.body.appendChild(out);
    }""")
    try:
        backgrounds = set()
        for theme in THEMES:
            backgrounds.add(page.evaluate(SET_THEME, theme))
            found = {v["id"]: v for v in page.evaluate(RUN_AXE, [AXE_TAGS, [], {"include": [["#ccnn-bad"], ["#ccnn-bad-outside"]]}])}
            assert found["image-alt"]["impact"] == "critical" and "#bad-img" in found["image-alt"]["nodes"][0], theme
            assert "label" in found and "#bad-input" in found["label"]["nodes"][0], theme
            assert "#bad-contrast" in found["color-contrast"]["nodes"][0], (theme, found.get("color-contrast"))
            assert found["landmark-unique"]["impact"] == "moderate", theme
            assert found["empty-table-header"]["impact"] == "minor", theme
        assert len(backgrounds) == 2, f"the theme did not change the page's colours: {backgrounds}"
        page.evaluate(SET_THEME, "light")
        page.evaluate("() => document.querySelectorAll('#ccnn-bad [data-ccnn-scroll]').forEach(e => e.style.background = 'none')")
        layout = page.evaluate(LAYOUT_PROBE)
        assert any("table#bad-table" in x for x in layout["overflow"]), layout["overflow"]
        assert any("div#bad-clip" in x for x in layout["clipped"]), layout["clipped"]
        assert any("div#bad-eq" in x for x in layout["silentScroll"]), layout["silentScroll"]
        assert layout["pageScroll"] > 0, "a 2000 px table did not make the page scroll sideways"
        tables = page.evaluate(TABLE_PROBE)
        assert any('"incomprehensibilities"' in x and "lines" in x for x in tables["problems"]), tables["problems"]
        hidden = page.evaluate(TREE_PROBE)
        assert any('figure "hidden" is inert' in x for x in hidden), hidden
    finally:
        page.evaluate("() => ['ccnn-bad', 'ccnn-bad-outside'].forEach(id => document.getElementById(id).remove())")
        page.evaluate(SET_THEME, "light")


def test_search_snippets_show_no_tex(visits):
    """Snippets are cut from the pages' HTML, where formulas are TeX until MathJax runs."""
    page = visits["laptop"].page
    page.goto(f"{visits['laptop'].probe.base}/search.html?q=stride", wait_until="load", timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll('#search-results li p.context').length >= 3", timeout=60_000)
    snippets = page.eval_on_selector_all("#search-results li p.context", "ps => ps.map(p => p.textContent)")
    tex = [s for s in snippets if re.search(r"\\[()\[\]]|\\[a-z]+\{|\$\$", s)]
    assert not tex, f"{len(tex)} of {len(snippets)} snippets show TeX, e.g. {tex[0][:160]!r}"
    assert page.evaluate("() => window.ccnnBook.texToText('\\\\(n_{out} \\\\times 3\\\\)')") == "n_out \u00d7 3"


def test_print_opens_every_folded_answer(visits):
    page = _open(visits["laptop"], "chapters/perceptron.html")
    closed = page.evaluate("() => document.querySelectorAll('details:not([open])').length")
    assert closed > 0, "no folded block on the perceptron page (did it change?)"
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("() => document.querySelectorAll('details:not([open])').length") == 0
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("() => document.querySelectorAll('details:not([open])').length") == closed
