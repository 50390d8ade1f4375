"""Keep each page's download small, and give the site root a real page.

- myst-nb adds the ipywidgets manager (require.js and the 3.5 MB HTML manager) to every notebook
  whose metadata holds widget state, even when no output shows a widget (a chapter that made a
  progress bar and cleared it). A page without a widget view in its body loses those scripts and
  the saved state.
- The theme loads fontawesome.js (1.5 MB) to turn its icons into SVG "so that users can add
  custom icons". The book adds none, and the theme's own stylesheet already draws every icon it
  uses with the Font Awesome web font, so the script is dropped from every page and from the site.
- The redirect that sphinx-external-toc writes as index.html has no title, language or icon (the
  browser then asks for /favicon.ico and gets a 404). A small page that does the same, with the
  book's SVG icon inline, is written first; sphinx-external-toc only writes its own when there is
  none.
"""

import html
import posixpath
import re
from pathlib import Path
from urllib.parse import quote

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FONTAWESOME = re.compile(r'\s*<script src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:image/svg+xml,{icon}">
<meta http-equiv="Refresh" content="0; url={root}">
</head>
<body>
<main><h1>{title}</h1><p>The book starts at <a href="{root}">the introduction</a>.</p></main>
</body>
</html>
"""


def _drop_unused_widget_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts or WIDGET_VIEW in (context.get("body") or ""):
        return
    # Sphinx stores them as "_static/" + the configured path ("_static/../vendor/require.js").
    manager = {posixpath.normpath(posixpath.join("_static", path)) for path in app.config.nb_ipywidgets_js or {}}
    kept = []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        name = getattr(script, "filename", None) or ""
        if posixpath.normpath(name) in manager or attributes.get("type") == WIDGET_STATE:
            continue
        kept.append(script)
    scripts[:] = kept


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in out.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = FONTAWESOME.sub("", text)
        if new != text:
            page.write_text(new, encoding="utf-8")
    script = out / "_static" / "scripts" / "fontawesome.js"
    for path in (script, script.with_name("fontawesome.js.LICENSE.txt"), script.with_name("fontawesome.js.map")):
        path.unlink(missing_ok=True)
    index = out / "index.html"
    if app.config.root_doc != "index":
        root = f"{app.config.root_doc}.html"
        # The icon inline: the redirect leaves at once, and would abort a request for the file.
        favicon = out / "_static" / Path(app.config.html_favicon or "favicon.svg").name
        icon = quote(favicon.read_text(encoding="utf-8"), safe=" =:/'") if favicon.suffix == ".svg" and favicon.exists() else ""
        index.write_text(INDEX.format(title=html.escape(app.config.html_title or app.config.project), root=root, icon=icon), encoding="utf-8")


def setup(app):
    # After myst-nb's own handler (priority 500) has added the page's scripts.
    app.connect("html-page-context", _drop_unused_widget_scripts, priority=900)
    # Before sphinx-external-toc's (500), which writes its redirect only when index.html is missing.
    app.connect("build-finished", _finish, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
