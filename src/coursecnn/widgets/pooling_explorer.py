"""PoolingExplorer: max, average and N-max pooling of a small grid, forward and backward."""

import ipywidgets as W
import numpy as np

from .. import ref
from . import _html
from .samples import LECTURE_POOL_INPUT, random_grid

__all__ = ["PoolingExplorer"]

_FORWARD = {"max": ref.max_pool2d, "avg": ref.avg_pool2d, "nmax": ref.nmax_pool2d}
_BACKWARD = {"max": ref.max_pool2d_backward, "avg": ref.avg_pool2d_backward, "nmax": ref.nmax_pool2d_backward}


class PoolingExplorer(W.VBox):
    """PoolingExplorer(mode="max", kernel_size=2, stride=None, n=2, input=None)

    Pools a small grid and routes an upstream gradient back, with ``coursecnn.ref``'s
    ``max_pool2d`` / ``avg_pool2d`` / ``nmax_pool2d`` and their ``*_backward`` twins. For a chosen
    output it shows the inputs it came from (the max's *switch*, every input for the average, the
    ``n`` largest for N-max): the inputs that receive its gradient.

    Args:
        mode (str): ``"max"``, ``"avg"`` or ``"nmax"``. Default: ``"max"``
        kernel_size (int): the window. Default: ``2``
        stride (int, optional): Default: ``kernel_size``
        n (int): how many of the largest values N-max averages. Default: ``2``
        input (array_like, optional): a 2D grid. Default: ``None`` (the lecture's 4x4 example)

    Read back ``.input``, ``.output``, ``.grad_output`` (``dy``, ones unless set),
    ``.grad_input`` (``dx``), ``.sources`` (the inputs behind the selected output),
    ``.explanation`` and ``.message``; change things with ``.set(...)``, ``.set_input``,
    ``.set_grad_output`` and ``.select``.

    Example::

        >>> from coursecnn.widgets import PoolingExplorer
        >>> PoolingExplorer().output.tolist()
        [[0.5, 0.6], [0.4, 0.6]]
    """

    def __init__(self, mode="max", kernel_size=2, stride=None, n=2, input=None):
        self._busy = False
        self._x = np.array(LECTURE_POOL_INPUT if input is None else input, dtype=np.float64)
        self._dy = None
        self._sel = (0, 0)
        self._mode_w = W.Dropdown(description="Pooling", options=[("max", "max"), ("average", "avg"), ("N-max", "nmax")], value=mode)
        self._k_w = W.IntSlider(description="window", min=1, max=6, value=kernel_size, layout=W.Layout(width="230px"))
        self._s_w = W.IntSlider(description="stride", min=1, max=6, value=kernel_size if stride is None else stride,
                                layout=W.Layout(width="230px"))
        self._n_w = W.IntSlider(description="n", min=1, max=16, value=n, layout=W.Layout(width="230px"))
        self._input_w = W.Dropdown(description="Input", options=[("the lecture's 4\u00d74", "lecture"), ("random 6\u00d76", "random")],
                                   value="lecture")
        self._row_w = W.IntSlider(description="output row", min=0, max=0, layout=W.Layout(width="230px"))
        self._col_w = W.IntSlider(description="output col", min=0, max=0, layout=W.Layout(width="230px"))
        self._picture = W.HTML()
        for w in (self._mode_w, self._k_w, self._s_w, self._n_w):
            w.observe(lambda ch: self._busy or self._update(), "value")
        self._input_w.observe(lambda ch: self._busy or self.set_input(
            LECTURE_POOL_INPUT if ch["new"] == "lecture" else random_grid(6)), "value")
        self._row_w.observe(lambda ch: self._busy or self.select(ch["new"], self._col_w.value), "value")
        self._col_w.observe(lambda ch: self._busy or self.select(self._row_w.value, ch["new"]), "value")
        super().__init__(children=[
            W.HBox([self._input_w, self._mode_w]),
            W.HBox([self._k_w, self._s_w, self._n_w]),
            W.HBox([self._row_w, self._col_w]),
            self._picture,
        ])
        self._update()

    @property
    def widget(self):
        return self

    @property
    def input(self):
        return self._x.copy()

    @property
    def output(self):
        return self._y.copy()

    @property
    def grad_output(self):
        return None if self._dy is None else self._dy.copy()

    @property
    def grad_input(self):
        return self._dx.copy()

    @property
    def sources(self):
        return list(self._sources)

    @property
    def message(self):
        return self._message

    @property
    def explanation(self):
        return self._explanation

    def set(self, mode=None, kernel_size=None, stride=None, n=None):
        self._busy = True
        try:
            for w, v in ((self._mode_w, mode), (self._k_w, kernel_size), (self._s_w, stride), (self._n_w, n)):
                if v is not None:
                    w.value = v
        finally:
            self._busy = False
        self._update()

    def set_input(self, x):
        x = np.array(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"input must be a 2D grid (H, W), got shape {x.shape}")
        self._x, self._dy = x, None
        self._update()

    def set_grad_output(self, dy):
        """Use ``dy`` (shape of the output) as the upstream gradient; ``None`` means ones."""
        self._dy = None if dy is None else np.array(dy, dtype=np.float64)
        self._update()

    def select(self, row, col):
        self._sel = (int(row), int(col))
        self._update()

    def _update(self):
        mode, k, s, n = self._mode_w.value, self._k_w.value, self._s_w.value, self._n_w.value
        x4 = self._x[None, None]
        extra = (n,) if mode == "nmax" else ()
        try:
            y = _FORWARD[mode](x4, k, *extra, stride=s)
        except ValueError as err:
            self._y, self._dx, self._sources = np.zeros((0, 0)), np.zeros_like(self._x), []
            self._message, self._explanation = str(err), ""
            self._picture.value = _html.note(self._message, warn=True)
            return
        self._y = y[0, 0]
        oh, ow = self._y.shape
        if self._dy is None or self._dy.shape != self._y.shape:
            self._dy = np.ones_like(self._y)
        if self._sel[0] >= oh or self._sel[1] >= ow:
            self._sel = (0, 0)
        self._dx = _BACKWARD[mode](self._dy[None, None], x4, k, *extra, stride=s)[0, 0]
        # Where did the selected output come from? Send a gradient of 1 from it alone.
        r, c = self._sel
        one = np.zeros_like(self._y)
        one[r, c] = 1.0
        route = _BACKWARD[mode](one[None, None], x4, k, *extra, stride=s)[0, 0]
        self._sources = [tuple(int(v) for v in ij) for ij in np.argwhere(route != 0)]
        self._message = ""
        if (self._x.shape[0] - k) % s or (self._x.shape[1] - k) % s:
            self._message = (f"The {k}\u00d7{k} windows at stride {s} don't tile the {self._x.shape[0]}\u00d7{self._x.shape[1]} "
                             "input: like PyTorch, the output size is floored and the last rows/columns are never pooled.")
        window = self._x[r * s:r * s + k, c * s:c * s + k].ravel()
        vals = ", ".join(_html.fmt(v) for v in window)
        name = f"y[{r}, {c}] = "
        if mode == "max":
            i, j = self._sources[0]
            self._explanation = (f"{name}max({vals}) = {_html.fmt(self._y[r, c], 4)}; the switch is input ({i}, {j}), "
                                 f"the only input of the window that receives dy[{r}, {c}].")
        elif mode == "avg":
            self._explanation = f"{name}({vals.replace(', ', ' + ')})/{k * k} = {_html.fmt(self._y[r, c], 4)}; each input gets dy/{k * k}."
        else:
            top = ", ".join(_html.fmt(self._x[i, j]) for i, j in self._sources)
            self._explanation = (f"{name}mean of the {n} largest of ({vals}): ({top}) -> {_html.fmt(self._y[r, c], 4)}; "
                                 f"each of those inputs gets dy/{n}.")
        for slider, top, value in ((self._row_w, oh - 1, r), (self._col_w, ow - 1, c)):
            self._busy = True
            try:
                slider.max, slider.value = top, value
            finally:
                self._busy = False
        self._draw(k, s, r, c)

    def _draw(self, k, s, r, c):
        window = {(r * s + u, c * s + v) for u in range(k) for v in range(k)}
        picked = set(self._sources)
        xs = {(i, j): (["window"] if (i, j) in window else []) + (["picked"] if (i, j) in picked else [])
              for i in range(self._x.shape[0]) for j in range(self._x.shape[1])}
        sel = {(r, c): ["now"]}
        dxs = {(i, j): ["nonzero"] for i, j in zip(*np.nonzero(self._dx))}
        arrow = '<span style="font-size:20px;color:#888">\u2192</span>'
        self._picture.value = (
            "<div><b>Forward</b></div>"
            + _html.grid(self._x, xs, title="input x") + arrow + _html.grid(self._y, sel, title="output y")
            + _html.note(self._explanation) + _html.note(self._message, warn=False)
            + "<div><b>Backward</b></div>"
            + _html.grid(self._dy, sel, title="upstream gradient dy") + arrow + _html.grid(self._dx, dxs, title="dx")
        )
