"""One caption and alt text per picture, for a code cell that draws several.

myst-nb gives every picture of a cell the cell's one ``mystnb.figure.caption`` and
``mystnb.image.alt``. A cell whose metadata lists ``ccnn.figures`` (written by
tools/figure_text.py), one ``{"caption", "alt"}`` per picture in the order drawn, gets each
picture's own words instead. A list that does not match the number of pictures is an error: a
caption must never describe another figure.
"""

from docutils import nodes
from sphinx.errors import ExtensionError


def _retitle(app, doctree):
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        wanted = ((cell.get("cell_metadata") or {}).get("ccnn") or {}).get("figures")
        if not wanted:
            continue
        figures = [f for f in cell.findall(nodes.figure)]
        if len(figures) != len(wanted):
            raise ExtensionError(f"{app.env.docname}: a cell lists {len(wanted)} figure captions in "
                                 f"ccnn.figures but draws {len(figures)} pictures")
        for figure, text in zip(figures, wanted):
            for caption in figure.findall(nodes.caption):
                caption.children = []
                caption += nodes.Text(text["caption"])
            for image in figure.findall(nodes.image):
                image["alt"] = text["alt"]


def setup(app):
    app.connect("doctree-read", _retitle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
