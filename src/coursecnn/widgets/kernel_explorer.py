"""KernelExplorer: a kernel slides over a photo or a digit; every number comes from coursecnn.ref."""

import io

import ipywidgets as W
import numpy as np

from .. import ref
from . import _html
from .kernels import KERNEL_LABELS, KERNELS
from .samples import LECTURE_IMAGE, digit_examples, photo_8bit

__all__ = ["KernelExplorer"]

EDITED = "(edited)"


class _Images(dict):
    """Name -> image, each loaded when first used (the photo takes a moment)."""

    def __init__(self):
        self._loaders = {"photo": lambda: photo_8bit(64) / 255.0}
        self._loaders.update({f"digit_{c}": (lambda c=c: digit_examples()[c] / 255.0) for c in range(10)})
        self._loaders["lecture"] = lambda: np.array(LECTURE_IMAGE)
        super().__init__({name: None for name in self._loaders})

    def __getitem__(self, name):
        if dict.__getitem__(self, name) is None:
            self[name] = self._loaders[name]()
        return dict.__getitem__(self, name)


def _in_kernel():
    """True inside a Jupyter kernel, where someone may be looking at the picture."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _fit(kernel, size):
    """Zero-pad a smaller square kernel to ``size x size``, centred (same filter, bigger grid)."""
    f = kernel.shape[0]
    if f >= size:
        return kernel.copy()
    out = np.zeros((size, size))
    o = (size - f) // 2
    out[o:o + f, o:o + f] = kernel
    return out


class KernelExplorer(W.VBox):
    """KernelExplorer(image=None, kernel="sobel_x", size=3)

    Slide a kernel over an image and read off any output pixel as a dot product. The output is
    ``coursecnn.ref.conv2d`` of the image and the kernel (a cross-correlation, zero padding).

    Args:
        image (str or array_like, optional): ``"photo"`` (Grace Hopper, 64x64 gray, 8-bit),
            ``"digit_0"`` ... ``"digit_9"`` (MNIST test digits), ``"lecture"`` (the lecture's 6x6
            example), or a 2D array :math:`(H, W)`. Default: ``None`` (the photo)
        kernel (str or array_like): a name in :data:`KERNELS` or a square array. Default: ``"sobel_x"``
        size (int): 3 or 5, the kernel grid; a smaller kernel is zero-padded to it, a larger
            preset keeps its own size. Default: ``3``

    Read back ``.image``, ``.kernel``, ``.output``, ``.selected``, ``.dot_product`` and
    ``.message``; change things with ``.set_kernel``, ``.set_entry``, ``.set_image``,
    ``.set_padding`` and ``.select`` (or the controls).

    Example::

        >>> from coursecnn.widgets import KernelExplorer
        >>> ex = KernelExplorer(image="lecture", kernel="lecture_example")
        >>> ex.output[0, 0], ex.dot_product.endswith("= 0.5")
        (np.float64(0.5), True)
    """

    def __init__(self, image=None, kernel="sobel_x", size=3):
        if size not in (3, 5):
            raise ValueError(f"size must be 3 or 5, got {size!r}")
        self._images = _Images()
        self._busy = False
        self._stale = True
        self._padding = 0
        self._sel = None
        self._output = np.zeros((0, 0))
        self._message = ""
        self._image_w = W.Dropdown(description="Input", options=self._image_options(), layout=W.Layout(width="300px"))
        self._preset_w = W.Dropdown(description="Preset", options=[(EDITED, EDITED)] + [(KERNEL_LABELS[k], k) for k in KERNELS],
                                    layout=W.Layout(width="330px"))
        self._size_w = W.Dropdown(description="Kernel", options=[("3\u00d73", 3), ("5\u00d75", 5)], value=size,
                                  layout=W.Layout(width="160px"))
        self._pad_w = W.IntSlider(description="Padding", min=0, max=2, value=0, layout=W.Layout(width="260px"))
        self._row_w = W.IntSlider(description="Output row", min=0, max=0, layout=W.Layout(width="300px"))
        self._col_w = W.IntSlider(description="Output col", min=0, max=0, layout=W.Layout(width="300px"))
        self._grid_w = W.GridBox(layout=W.Layout(grid_gap="2px"))
        self._picture = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self._text = W.HTML()
        self._entries = []
        self._kernel = np.zeros((size, size))
        self.set_image("photo" if image is None else image, _render=False)
        self.set_kernel(kernel, size=size, _render=False)
        self._image_w.observe(lambda ch: self._ui(lambda: self.set_image(ch["new"])), "value")
        self._preset_w.observe(lambda ch: ch["new"] != EDITED and self._ui(lambda: self.set_kernel(ch["new"])), "value")
        self._size_w.observe(lambda ch: self._ui(lambda: self._resize(ch["new"])), "value")
        self._pad_w.observe(lambda ch: self._ui(lambda: self.set_padding(ch["new"])), "value")
        self._row_w.observe(lambda ch: self._ui(lambda: self.select(ch["new"], self._col_w.value)), "value")
        self._col_w.observe(lambda ch: self._ui(lambda: self.select(self._row_w.value, ch["new"])), "value")
        super().__init__(children=[
            W.HBox([self._image_w, self._preset_w]),
            W.HBox([self._size_w, self._pad_w]),
            W.HBox([W.VBox([W.HTML("<b>Kernel</b> (type any entry)"), self._grid_w]), self._picture],
                   layout=W.Layout(align_items="center", flex_flow="row wrap")),
            W.HBox([self._row_w, self._col_w]),
            self._text,
        ])
        self._update()

    # -- what tests and readers read back
    @property
    def widget(self):
        return self

    @property
    def image(self):
        return self._image.copy()

    @property
    def kernel(self):
        return self._kernel.copy()

    @property
    def output(self):
        return self._output.copy()

    @property
    def padding(self):
        return self._padding

    @property
    def selected(self):
        return self._sel

    @property
    def message(self):
        return self._message

    @property
    def dot_product(self):
        return self._dot

    @property
    def picture(self):
        """The PNG shown: input with the window, output with the pixel (drawn when first needed
        outside a kernel, so scripts and tests do not pay for matplotlib on every change)."""
        if self._stale:
            self._picture.value = self._render(self._sel if self._output.size else None)
            self._stale = False
        return self._picture.value

    # -- setters
    def set_image(self, image, _render=True):
        """Use ``image``: a name (see the class doc) or a 2D array."""
        if isinstance(image, str):
            if image not in self._images:
                raise ValueError(f"image must be one of {sorted(self._images)} or a 2D array, got {image!r}")
            self._image, name = self._images[image], image
        else:
            arr = np.array(image, dtype=np.float64)
            if arr.ndim != 2:
                raise ValueError(f"image must be a 2D array (H, W), got shape {arr.shape}")
            self._images["custom"], self._image, name = arr, arr, "custom"
            self._image_w.options = self._image_options()
        self._set_quietly(self._image_w, name)
        self._sel = None
        if _render:
            self._update()

    def set_kernel(self, kernel, size=None, _render=True):
        """Use ``kernel``: a preset name or a square 2D array (copied)."""
        if isinstance(kernel, str):
            if kernel not in KERNELS:
                raise ValueError(f"kernel must be one of {sorted(KERNELS)} or a square array, got {kernel!r}")
            k, preset = np.array(KERNELS[kernel]), kernel
        else:
            k, preset = np.array(kernel, dtype=np.float64), EDITED
            if k.ndim != 2 or k.shape[0] != k.shape[1]:
                raise ValueError(f"kernel must be a square 2D array (F, F), got shape {k.shape}")
        self._kernel = _fit(k, size or self._kernel.shape[0]) if preset != EDITED else k
        self._set_quietly(self._preset_w, preset)
        self._set_quietly(self._size_w, self._kernel.shape[0]) if self._kernel.shape[0] in (3, 5) else None
        self._build_grid()
        if _render:
            self._update()

    def set_entry(self, i, j, value):
        """Set one kernel entry, as typing in the grid does."""
        self._kernel = self._kernel.copy()
        self._kernel[i, j] = float(value)
        self._set_quietly(self._entries[i][j], float(value))
        self._set_quietly(self._preset_w, EDITED)
        self._update()

    def set_padding(self, padding):
        self._padding = int(padding)
        self._set_quietly(self._pad_w, self._padding)
        self._update()

    def select(self, row, col):
        """Show the dot product behind output pixel ``(row, col)``."""
        self._sel = (int(row), int(col))
        self._update()

    # -- internals
    def _image_options(self):
        names = {"photo": "photograph (64\u00d764)", "lecture": "the lecture's 6\u00d76 example", "custom": "your array"}
        return [(names.get(k, f"MNIST digit {k[-1]}"), k) for k in self._images]

    def _ui(self, action):
        if not self._busy:
            action()

    def _set_quietly(self, widget, value):
        self._busy = True
        try:
            widget.value = value
        finally:
            self._busy = False

    def _resize(self, size):
        f = self._kernel.shape[0]
        if size > f:
            self._kernel = _fit(self._kernel, size)
        else:
            o = (f - size) // 2
            self._kernel = self._kernel[o:o + size, o:o + size].copy()
        self._set_quietly(self._preset_w, EDITED)
        self._build_grid()
        self._update()

    def _build_grid(self):
        f = self._kernel.shape[0]
        self._entries = []
        boxes = []
        for i in range(f):
            row = []
            for j in range(f):
                box = W.FloatText(value=float(self._kernel[i, j]), layout=W.Layout(width="58px"))
                box.observe(lambda ch, i=i, j=j: self._ui(lambda: self.set_entry(i, j, ch["new"])), "value")
                row.append(box)
                boxes.append(box)
            self._entries.append(row)
        self._grid_w.children = boxes
        self._grid_w.layout.grid_template_columns = f"repeat({f}, 60px)"

    def _update(self):
        x, k, p = self._image, self._kernel, self._padding
        try:
            self._output = ref.conv2d(x[None, None], k[None, None], padding=p)[0, 0]
            self._message = ""
        except ValueError as err:
            self._output, self._message = np.zeros((0, 0)), f"No output: {err}"
            self._dot = ""
            self._text.value = _html.note(self._message, warn=True)
            self._refresh_picture()
            return
        oh, ow = self._output.shape
        if self._sel is None or self._sel[0] >= oh or self._sel[1] >= ow:
            self._sel = (0, 0) if max(x.shape) <= 12 else (oh // 2, ow // 2)
        r, c = self._sel
        for slider, top, value in ((self._row_w, oh - 1, r), (self._col_w, ow - 1, c)):
            self._busy = True
            try:
                slider.max, slider.value = top, value
            finally:
                self._busy = False
        padded = np.pad(x, p)
        patch = padded[r:r + k.shape[0], c:c + k.shape[1]]
        terms = " + ".join(f"{_html.fmt(w, 4)}\u00b7{_html.fmt(v)}" for w, v in zip(k.ravel(), patch.ravel()))
        self._dot = f"output[{r}, {c}] = {terms} = {_html.fmt(self._output[r, c], 4)}"
        self._text.value = _html.note(self._dot)
        self._refresh_picture()

    def _refresh_picture(self):
        self._stale = True
        if _in_kernel():
            self.picture  # noqa: B018 - draws it now

    def _render(self, sel):
        import matplotlib

        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle

        x, k, p, out = self._image, self._kernel, self._padding, self._output
        fig = Figure(figsize=(5.4, 2.5), dpi=80)
        axes = fig.subplots(1, 2)
        small = max(x.shape) <= 12
        padded = np.pad(x, p)
        axes[0].imshow(padded, cmap="Blues" if small else "gray", vmin=min(0, padded.min()), vmax=max(1, padded.max()))
        axes[0].set_title(f"input {x.shape[0]}\u00d7{x.shape[1]}" + (f", padded by {p}" if p else ""), fontsize=9)
        if out.size:
            lim = np.abs(out).max() or 1
            neg = out.min() < 0
            axes[1].imshow(out, cmap="bwr" if neg else ("Blues" if small else "gray"),
                           vmin=-lim if neg else 0, vmax=lim if neg else max(1, out.max()))
            axes[1].set_title(f"output {out.shape[0]}\u00d7{out.shape[1]}", fontsize=9)
        if small:
            for ax, a in ((axes[0], padded), (axes[1], out)):
                top = max(abs(a).max(), 1e-12)
                for (i, j), v in np.ndenumerate(a):
                    ax.text(j, i, _html.fmt(v, 2), ha="center", va="center", fontsize=8,
                            color="white" if abs(v) > 0.6 * top else "black")
        if sel is not None:
            r, c = sel
            f = k.shape[0]
            axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), f, f, fill=False, ec="#ff8c00", lw=2.5, clip_on=False))
            axes[1].add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="#ff8c00", lw=2.5, clip_on=False))
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
