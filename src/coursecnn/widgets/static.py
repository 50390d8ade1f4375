"""Kernel-free explorers for the published book: a <div> that book/_static/widgets/explorers.js
turns into a live explorer, with its data (photo, digits, kernels) computed here and embedded."""

import html
import json
import os
from pathlib import Path

import numpy as np

from .kernels import KERNEL_LABELS, KERNELS
from .samples import LECTURE_IMAGE, LECTURE_POOL_INPUT, digit_examples, photo_8bit, random_grid

__all__ = ["static_explorer", "StaticExplorer", "explorer_assets"]

KINDS = ("kernel", "arithmetic", "pooling")
# The one copy of the JavaScript and CSS ships with the package (so `pip install .` has it);
# book/_static/widgets/ holds symlinks to it, which the book loads on every page.
_ASSETS = Path(__file__).resolve().parent / "assets"


# `make book` and `make book-instructor` set this for the kernels the build starts: the book's
# pages load the explorers' JavaScript themselves, so the cells need not inline it.
BOOK_BUILD_ENV = "COURSECNN_BOOK_BUILD"


def _building_book():
    """True when this kernel runs inside a book build (``COURSECNN_BOOK_BUILD=1``)."""
    return os.environ.get(BOOK_BUILD_ENV, "") not in ("", "0")


def explorer_assets():
    """``(js, css)`` text of the explorers' component, or ``None`` when the files are missing."""
    js, css = _ASSETS / "explorers.js", _ASSETS / "explorers.css"
    if js.is_file() and css.is_file():
        return js.read_text(encoding="utf-8"), css.read_text(encoding="utf-8")
    return None


class StaticExplorer:
    """What :func:`static_explorer` returns: displays as HTML; ``kind`` and ``config`` say what it holds."""

    def __init__(self, kind, config, inline):
        self.kind, self.config, self.inline = kind, config, inline

    def html(self):
        data = html.escape(json.dumps(self.config, separators=(",", ":")), quote=True)
        div = f'<div class="ccnn-explorer" data-kind="{self.kind}" data-config="{data}"></div>'
        assets = explorer_assets() if self.inline else None
        if assets is None:
            return div
        js, css = assets
        # Outside the book (JupyterLab, VS Code) nothing has loaded the component: bring it along.
        # It defines itself once per page, then mounts every explorer not yet mounted.
        return f"{div}\n<style>{css}</style>\n<script>{js}\n</script>"

    def _repr_html_(self):
        return self.html()

    def __repr__(self):
        return f"<coursecnn static {self.kind} explorer>"


def _check_options(kind, options, allowed):
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"static_explorer({kind!r}) got unexpected option(s) {unknown}; expected some of {sorted(allowed)}"
        )


def _int_option(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an int from {low} to {high}, got {value!r}")
    return int(value)


def _kernel_config(image="photo", kernel="sobel_x", padding=0, photo_size=64):
    images = {"photo": {"label": f"photograph ({photo_size}\u00d7{photo_size})", "scale": 255,
                        "data": photo_8bit(photo_size).tolist()}}
    for label, digit in digit_examples().items():
        images[f"digit_{label}"] = {"label": f"MNIST digit {label}", "scale": 255, "data": digit.astype(int).tolist()}
    images["lecture"] = {"label": "the lecture's 6\u00d76 example", "scale": 1, "data": LECTURE_IMAGE.tolist()}
    if image not in images:
        raise ValueError(f"image must be one of {sorted(images)}, got {image!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}, got {kernel!r}")
    kernels = {name: {"label": KERNEL_LABELS[name], "values": k.tolist()} for name, k in KERNELS.items()}
    return {"images": images, "image": image, "kernels": kernels, "kernel": kernel,
            "size": len(KERNELS[kernel]), "padding": _int_option(padding, "padding", 0, 2)}


def _arithmetic_config(input_size=7, kernel_size=3, padding=0, stride=2, dilation=1, transposed=False):
    return {"n": _int_option(input_size, "input_size", 1, 16), "f": _int_option(kernel_size, "kernel_size", 1, 7),
            "p": _int_option(padding, "padding", 0, 4), "s": _int_option(stride, "stride", 1, 4),
            "d": _int_option(dilation, "dilation", 1, 3), "transposed": bool(transposed)}


def _pooling_config(mode="max", kernel_size=2, stride=None, n=2, input="lecture", seed=0):
    if mode not in ("max", "avg", "nmax"):
        raise ValueError(f"mode must be one of 'max', 'avg', 'nmax', got {mode!r}")
    inputs = {"lecture": {"label": "the lecture's 4\u00d74 example", "data": LECTURE_POOL_INPUT.tolist()},
              "random": {"label": "random 6\u00d76 integers", "data": random_grid(6, seed).tolist()}}
    if input not in inputs:
        raise ValueError(f"input must be one of {sorted(inputs)}, got {input!r}")
    k = _int_option(kernel_size, "kernel_size", 1, 4)
    return {"inputs": inputs, "input": input, "mode": mode, "k": k,
            "s": k if stride is None else _int_option(stride, "stride", 1, 4), "n": _int_option(n, "n", 1, 16)}


_BUILDERS = {"kernel": _kernel_config, "arithmetic": _arithmetic_config, "pooling": _pooling_config}


def static_explorer(kind, inline_js=None, **options):
    """static_explorer(kind, inline_js=None, **options) -> StaticExplorer

    An explorer that works with no Python kernel: in the published book, and in JupyterLab.

    The returned object displays as an HTML ``<div>`` holding its data as JSON; the component in
    ``book/_static/widgets/explorers.js`` (loaded on every page of the book) turns it into a live
    explorer whose numbers equal ``coursecnn.ref``'s: the same cross-correlation, zero padding and
    floored sizes.

    Args:
        kind (str): ``"kernel"``, ``"arithmetic"`` or ``"pooling"``.
        inline_js (bool, optional): also put the component's JS and CSS in the output, so it runs
            in a notebook where the book's files are not loaded. Default: ``None`` (inline, except
            while Jupyter Book builds the book, whose pages load the component themselves; a
            second copy would be harmless, only heavier)
        **options: the explorer's starting state.

            - kernel: ``image`` (``"photo"``, ``"digit_0"`` ... ``"digit_9"``, ``"lecture"``;
              default ``"photo"``), ``kernel`` (a name in :data:`KERNELS`; default ``"sobel_x"``),
              ``padding`` (0 to 2; default 0), ``photo_size`` (default 64).
            - arithmetic: ``input_size`` (default 7), ``kernel_size`` (3), ``padding`` (0),
              ``stride`` (2), ``dilation`` (1), ``transposed`` (``False``).
            - pooling: ``mode`` (``"max"``, ``"avg"`` or ``"nmax"``; default ``"max"``),
              ``kernel_size`` (2), ``stride`` (default: ``kernel_size``), ``n`` (2, for N-max),
              ``input`` (``"lecture"`` or ``"random"``), ``seed`` (0, for the random input).

    Returns:
        a :class:`StaticExplorer`; display it as the last expression of a cell.

    Example::

        >>> from coursecnn.widgets import static_explorer
        >>> static_explorer("arithmetic", input_size=7, kernel_size=3, stride=3)  # doesn't fit
        <coursecnn static arithmetic explorer>
    """
    if kind not in _BUILDERS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    builder = _BUILDERS[kind]
    _check_options(kind, options, builder.__code__.co_varnames[: builder.__code__.co_argcount])
    inline = not _building_book() if inline_js is None else bool(inline_js)
    return StaticExplorer(kind, builder(**options), inline=inline)
