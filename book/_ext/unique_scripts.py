"""A tiny Sphinx extension: every page lists each script once.

Jupyter Book 1 runs sphinx-thebe's set-up twice, so each page carried its inline
``const THEBE_JS_URL = ...`` twice and the browser raised "Identifier 'THEBE_JS_URL' has already
been declared" on every page. Dropping exact repeats (same file or same inline body, same
attributes; a None or empty file name counts as none) removes the error and changes nothing else.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # An inline script's file name may be None or "" (the two copies differ in just that).
        name = None if attributes.get("body") else (getattr(script, "filename", None) or str(script))
        key = (name, tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app):
    # Early: Sphinx stops calling html-page-context handlers at the first that returns a value.
    app.connect("html-page-context", _unique_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
