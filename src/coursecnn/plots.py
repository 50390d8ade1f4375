"""Small figure helpers for the book: images in a row, and grids of numbers with a highlighted window.

They draw on matplotlib axes and return them, so a chapter can add titles or arrows afterwards.
"""

import numpy as np

__all__ = ["show_images", "draw_grid", "draw_grids", "draw_architecture", "describe_architecture"]


def _as_boxes(highlight):
    """``highlight`` as a list of ``(top, left, height, width)`` boxes (None gives none)."""
    if highlight is None:
        return []
    # A flat tuple of numbers is one box; anything else a list of boxes.
    if all(isinstance(v, (int, np.integer)) for v in highlight):
        highlight = [highlight]
    boxes = []
    for box in highlight:
        if not isinstance(box, (tuple, list)) or len(box) != 4 or not all(isinstance(v, (int, np.integer)) for v in box):
            raise ValueError(
                f"highlight must be a box (top, left, height, width) of ints or a list of them, got {box!r}"
            )
        boxes.append(tuple(int(v) for v in box))
    return boxes


def _number_size(ax, h, w, labels):
    """Font size (points) of the numbers in an ``h`` x ``w`` grid drawn on ``ax``.

    As large as the cell allows: half its side, and the longest label within 85% of its width
    (a digit is about 0.6 em wide). A book figure is shown about 0.55 times its size on a phone, so
    numbers sized to their cells stay near 9 CSS px or more there where the old fixed sizes
    (11 points less 0.4 per row) came out at 3 to 5 px. Never below the old size.
    """
    old = max(6.0, 11.0 - 0.4 * max(h, w))
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    cell = 72.0 * min(box.width * fig_w / w, box.height * fig_h / h)  # points, the axes keep squares
    longest = max((len(t) for row in labels for t in row), default=1)
    return max(old, min(0.5 * cell, 0.85 * cell / (0.6 * max(longest, 1)), 18.0))


def draw_grid(values, ax=None, highlight=None, fmt="{:g}", cmap="Blues", title=None,
              color="tab:red", fontsize=None):
    """draw_grid(values, ax=None, highlight=None, fmt="{:g}", cmap="Blues", title=None, color="tab:red", fontsize=None) -> Axes

    Draw a 2D array as a grid of cells with its numbers written in them, optionally outlining
    windows (the kernel's current position, say).

    Args:
        values (array_like): shape :math:`(H, W)`.
        ax (matplotlib Axes, optional): where to draw. Default: ``None`` (a new figure).
        highlight (tuple or list, optional): a box ``(top, left, height, width)`` in cells, or a
            list of boxes; each is outlined. Default: ``None``.
        fmt (str): format of each number, ``fmt.format(v)``; ``""`` writes none. Default: ``"{:g}"``.
        cmap (str): colour map of the cells' shading. Default: ``"Blues"``.
        title (str, optional): the axes' title. Default: ``None``.
        color: the outline colour of the highlighted boxes. Default: ``"tab:red"``.
        fontsize (float, optional): size of the numbers. Default: ``None`` (chosen from the grid size).

    Returns:
        the matplotlib ``Axes``.

    Example::

        >>> ax = draw_grid([[0, 1], [2, 3]], highlight=(0, 0, 1, 2))
        >>> len(ax.texts)
        4
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"draw_grid expects a numeric array shaped (H, W), got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"draw_grid expects values of shape (H, W), got an array of shape {arr.shape}")
    arr = arr.astype(np.float64)
    boxes = _as_boxes(highlight)
    h, w = arr.shape
    for top, left, bh, bw in boxes:
        if bh < 1 or bw < 1 or top < 0 or left < 0 or top + bh > h or left + bw > w:
            raise ValueError(
                f"highlight box (top={top}, left={left}, height={bh}, width={bw}) must lie inside "
                f"the {h}x{w} grid"
            )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * w + 0.5, 0.5 * h + 0.5))
    finite = arr[np.isfinite(arr)]
    span = np.abs(finite).max() if finite.size else 0.0
    # Shade by magnitude, lightly, so the numbers stay readable.
    shade = np.abs(arr) / span * 0.6 if span > 0 else np.zeros_like(arr)
    ax.imshow(shade, cmap=cmap, vmin=0, vmax=1, extent=(0, w, h, 0))
    labels = [[fmt.format(arr[i, j]) for j in range(w)] for i in range(h)] if fmt else []
    size = fontsize if fontsize is not None else _number_size(ax, h, w, labels)
    if fmt:
        for i in range(h):
            for j in range(w):
                ax.text(j + 0.5, i + 0.5, labels[i][j], ha="center", va="center", fontsize=size)
    for k in range(h + 1):
        ax.axhline(k, color="0.6", lw=0.8)
    for k in range(w + 1):
        ax.axvline(k, color="0.6", lw=0.8)
    for top, left, bh, bw in boxes:
        ax.add_patch(Rectangle((left, top), bw, bh, fill=False, edgecolor=color, lw=2.5))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title)
    return ax


def draw_grids(grids, titles=None, highlights=None, symbols=None, figsize=None, fmt="{:g}"):
    """draw_grids(grids, titles=None, highlights=None, symbols=None, figsize=None, fmt="{:g}") -> (Figure, list of Axes)

    Draw several grids of numbers in a row, e.g. ``input * kernel = output``, each scaled to its size.

    Args:
        grids (sequence of array_like): each of shape :math:`(H_i, W_i)`.
        titles (sequence of str, optional): one title per grid. Default: ``None``.
        highlights (sequence, optional): one ``highlight`` per grid (see :func:`draw_grid`),
            ``None`` for none. Default: ``None``.
        symbols (sequence of str, optional): ``len(grids) - 1`` symbols written between the grids,
            like ``["*", "="]``. Default: ``None``.
        figsize (tuple, optional): the figure size. Default: ``None`` (from the grids' sizes, at
            most 9 inches wide).
        fmt (str): the number format, as in :func:`draw_grid`. Default: ``"{:g}"``.

    Returns:
        ``(fig, axes)``: the figure and one ``Axes`` per grid.

    Example::

        >>> fig, axes = draw_grids([np.eye(3), np.ones((2, 2))], symbols=["->"])
        >>> len(axes)
        2
    """
    import matplotlib.pyplot as plt

    arrays = [np.asarray(g) for g in grids]
    n = len(arrays)
    if n == 0:
        raise ValueError("draw_grids expects at least one grid, got none")
    for name, seq, want in (("titles", titles, n), ("highlights", highlights, n), ("symbols", symbols, n - 1)):
        if seq is not None and len(seq) != want:
            raise ValueError(f"draw_grids got {n} grids, so {name} must have {want} entries, got {len(seq)}")
    for a in arrays:
        if a.ndim != 2:
            raise ValueError(f"draw_grids expects grids of shape (H, W), got an array of shape {a.shape}")
    widths = [a.shape[1] for a in arrays]
    tallest = max(a.shape[0] for a in arrays)
    if figsize is None:
        cells = sum(widths) + (n - 1)
        scale = min(0.55, 9.0 / cells)
        figsize = (cells * scale, tallest * scale + 0.6)
    fig, axes = plt.subplots(1, n, figsize=figsize, gridspec_kw={"width_ratios": widths, "wspace": 0.35})
    axes = list(np.atleast_1d(axes))
    for k, (a, ax) in enumerate(zip(arrays, axes)):
        draw_grid(a, ax=ax, fmt=fmt,
                  highlight=None if highlights is None else highlights[k],
                  title=None if titles is None else titles[k])
    if symbols is not None:
        for k, sym in enumerate(symbols):
            left, right = axes[k].get_position(), axes[k + 1].get_position()
            fig.text((left.x1 + right.x0) / 2, 0.5 * (left.y0 + left.y1), sym,
                     ha="center", va="center", fontsize=16)
    return fig, axes


def show_images(images, titles=None, cmap="gray", ncols=None, figsize=None, vmin=None, vmax=None):
    """show_images(images, titles=None, cmap="gray", ncols=None, figsize=None, vmin=None, vmax=None) -> (Figure, list of Axes)

    Show images side by side without axes ticks: a photograph and its filtered versions, say.

    Args:
        images (sequence of array_like): each of shape :math:`(H, W)` (drawn with ``cmap``) or
            :math:`(H, W, 3)` (RGB, values in [0, 1]).
        titles (sequence of str, optional): one title per image. Default: ``None``.
        cmap (str): colour map for 2D images. Default: ``"gray"``.
        ncols (int, optional): images per row. Default: ``None`` (all in one row, at most 6).
        figsize (tuple, optional): the figure size. Default: ``None`` (about 2.2 inches per
            image, at most 9 wide).
        vmin, vmax (float, optional): the colour range of 2D images. Default: ``None`` (each
            image's own range).

    Returns:
        ``(fig, axes)``: the figure and one ``Axes`` per image.

    Example::

        >>> fig, axes = show_images([np.zeros((4, 4)), np.ones((4, 4))], titles=["a", "b"])
        >>> [ax.get_title() for ax in axes]
        ['a', 'b']
    """
    import matplotlib.pyplot as plt

    arrays = [np.asarray(im) for im in images]
    n = len(arrays)
    if n == 0:
        raise ValueError("show_images expects at least one image, got none")
    if titles is not None and len(titles) != n:
        raise ValueError(f"show_images got {n} images, so titles must have {n} entries, got {len(titles)}")
    for a in arrays:
        if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
            raise ValueError(
                f"show_images expects images of shape (H, W) or (H, W, 3), got an array of shape {a.shape}"
            )
    if ncols is None:
        ncols = min(n, 6)
    if not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    nrows = -(-n // ncols)
    if figsize is None:
        side = min(2.2, 9.0 / ncols)
        figsize = (side * ncols, side * nrows + 0.3 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    flat = list(axes.ravel())
    for k, ax in enumerate(flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        a = arrays[k]
        if a.ndim == 2:
            ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax)
        else:
            ax.imshow(a)
        if titles is not None:
            ax.set_title(titles[k], fontsize=10)
    fig.tight_layout()
    return fig, flat[:n]


# ---------------------------------------------------------------- network drawings

_ACTIVATIONS = {"ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "GELU", "ELU"}
_SHORT = {"Conv2d": "conv", "MaxPool2d": "max pool", "AvgPool2d": "avg pool", "AdaptiveAvgPool2d": "avg pool",
          "LocalResponseNorm": "norm", "BatchNorm2d": "batch norm", "Linear": "FC", "Flatten": "flatten",
          "Dropout": "dropout", "ReLU": "ReLU", "LeakyReLU": "leaky ReLU", "Tanh": "tanh", "Sigmoid": "sigmoid"}


def _stages(table):
    """The drawing's items from a :func:`coursecnn.models.summary` table: ``(kind, label, shape)``."""
    if not hasattr(table, "rows") or not hasattr(table, "input_shape"):
        raise TypeError("draw_architecture expects the table of coursecnn.models.summary(model, input_shape), "
                        f"got {type(table).__name__}")
    shape = tuple(table.input_shape)
    items = [("maps" if len(shape) == 3 else "vector", "input", shape)]
    for row in table.rows:
        kind = row.type
        out = tuple(row.output_shape)
        short = _SHORT.get(kind, kind)
        if kind in _ACTIVATIONS or kind.startswith("Dropout") or kind == "Flatten":
            items.append(("step", short, out))
        elif len(out) == 3:
            items.append(("maps", short, out))
        else:
            items.append(("vector", short, out))
    return items


def _size(shape):
    if len(shape) == 3:
        c, h, w = shape
        return f"{c}@{h}\u00d7{w}"
    return f"{shape[0]:,}"


def describe_architecture(table):
    """describe_architecture(table) -> str

    The layers of a network in words, from input to output: a text alternative for
    :func:`draw_architecture`'s picture.

    Args:
        table: what :func:`coursecnn.models.summary` returns for the network.

    Example::

        >>> from coursecnn.models import LeNet5, summary
        >>> describe_architecture(summary(LeNet5(), (1, 32, 32))).split(", ")[:2]
        ['input 1@32×32', 'conv 6@28×28']
    """
    parts = []
    for kind, label, shape in _stages(table):
        parts.append(label if kind == "step" else f"{label} {_size(shape)}")
    return ", ".join(parts)


def draw_architecture(table, ax=None, title=None):
    """draw_architecture(table, ax=None, title=None) -> Axes

    Draw a network as the lectures do: each stack of feature maps as a pile of squares (side
    growing with the maps' height, pile with their number), each fully connected layer as a bar,
    activations and flattening written on the arrows between them, in the order the model
    applies them.

    Args:
        table: what :func:`coursecnn.models.summary` returns for the network.
        ax (matplotlib Axes, optional): where to draw. Default: ``None`` (a new figure, 9 inches wide).
        title (str, optional): the title. Default: ``None``.

    Returns:
        The ``Axes`` drawn on.

    Example::

        >>> from coursecnn.models import LeNet5, summary
        >>> ax = draw_architecture(summary(LeNet5(), (1, 32, 32)))
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    items = _stages(table)
    blocks = [it for it in items if it[0] != "step"]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.9))
    largest = max(max(s[1], s[2]) for k, _, s in blocks if k == "maps") if any(k == "maps" for k, _, _ in blocks) else 1
    widest = max((s[0] for k, _, s in blocks if k == "vector"), default=1)
    x, gap, steps = 0.0, 0.9, []
    for kind, label, shape in items:
        if kind == "step":
            steps.append(label)
            continue
        if x > 0:  # the arrow from the previous block, with what happens on the way
            ax.annotate("", xy=(x + gap - 0.08, 0), xytext=(x + 0.08, 0),
                        arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 1})
            if steps:
                ax.text(x + gap / 2, 0.1, "\n".join(steps), ha="center", va="bottom", fontsize=7.5, color="0.25")
            x += gap
            steps = []
        if kind == "maps":
            c, h, w = shape
            side = 0.35 + 1.15 * (max(h, w) / largest) ** 0.5
            pile = min(c, 5)
            shift = 0.06
            for k in range(pile):
                ax.add_patch(Rectangle((x + k * shift, -side / 2 + k * shift), side, side, facecolor="#dbe7f3",
                                       edgecolor="#3a5f8a", lw=0.8, zorder=10 - k))
            width = side + (pile - 1) * shift
            top = side / 2 + (pile - 1) * shift
        else:
            n = shape[0]
            height = 0.4 + 1.5 * (np.log1p(n) / np.log1p(widest))
            width = 0.16
            ax.add_patch(Rectangle((x, -height / 2), width, height, facecolor="#fde3c8", edgecolor="#9a4a00", lw=0.8))
            top = height / 2
        ax.text(x + width / 2, top + 0.08, f"{label}\n{_size(shape)}", ha="center", va="bottom", fontsize=8)
        x += width
    if steps:
        ax.text(x + 0.1, 0, "\n".join(steps), ha="left", va="center", fontsize=7.5, color="0.25")
        x += 0.6
    ax.set_xlim(-0.1, x + 0.1)
    ax.set_ylim(-1.1, 1.55)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
