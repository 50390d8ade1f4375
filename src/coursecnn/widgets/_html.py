"""Small HTML pieces for the ipywidgets explorers: grids of numbers as tables, with inline styles
(a notebook need not have the book's CSS)."""

import html

import numpy as np

CELL = ("border:1px solid #c8ced4;min-width:2.4em;height:1.9em;text-align:center;padding:0 3px;"
        "font-family:monospace;font-size:12px;")
STYLES = {
    "window": "box-shadow:inset 0 0 0 2px #ff8c00;",
    "picked": "background:#ffd39b;font-weight:600;",
    "now": "background:#ff8c00;color:#fff;font-weight:600;",
    "pad": "background:#e6eef6;color:#7890a8;",
    "unused": "background:#fbe0dc;",
    "tap": "background:#ffc680;",
    "nonzero": "color:#0a5ec2;font-weight:600;",
}


def fmt(v, digits=3):
    """A number, short: 0.5 not 0.500, 0 not -0."""
    text = f"{float(v):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def grid(values, styles=None, title="", caption="", numbers=True):
    """An HTML table of ``values`` (2D); ``styles[(i, j)]`` is a list of STYLES keys for a cell."""
    values = np.asarray(values)
    styles = styles or {}
    rows = []
    for i in range(values.shape[0]):
        cells = []
        for j in range(values.shape[1]):
            css = CELL + "".join(STYLES[k] for k in styles.get((i, j), ()))
            text = fmt(values[i, j]) if numbers else ""
            cells.append(f'<td style="{css}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = f'<div style="font-weight:600;font-size:13px;margin-bottom:3px">{html.escape(title)}</div>' if title else ""
    foot = f'<div style="font-size:11px;color:#666;margin-top:3px">{html.escape(caption)}</div>' if caption else ""
    table = '<table style="border-collapse:collapse;margin:0">' + "".join(rows) + "</table>"
    return f'<div style="display:inline-block;vertical-align:middle;margin:4px 10px">{head}{table}{foot}</div>'


def note(text, warn=False):
    css = ("color:#8a1c12;background:#fff1ef;border-left:4px solid #d1242f;padding:6px 8px;" if warn
           else "font-family:monospace;font-size:12px;background:#f3f5f7;padding:6px 8px;")
    return f'<div style="{css}margin:6px 0;border-radius:3px">{html.escape(text)}</div>' if text else ""
