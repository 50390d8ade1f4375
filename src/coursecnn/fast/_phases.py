"""Pooling on *phase planes*, where every step is one NumPy call over contiguous memory.

With stride ``s``, window ``(i, j)`` reads the padded input at ``(i s_h + u, j s_w + v)`` for the
window offsets ``(u, v)``. Rows ``a, a + s_h, a + 2 s_h, ...`` and columns ``b, b + s_w, ...``
form the *phase plane* ``(a, b)``, an ``(H_q, W_q)`` grid (``H_q = ceil(H_p / s_h)``). Offset
``(u, v)`` of window ``(i, j)`` lies in plane ``(u % s_h, v % s_w)`` at ``(i + u // s_h,
j + v // s_w)``: the same grid, shifted. Seen as one long row of ``N C H_q W_q`` values, a
plane shifted by ``(u // s_h) W_q + v // s_w`` lines up offset ``(u, v)`` of every window with
the window's own place ``i W_q + j``. So each offset costs a few calls over contiguous memory,
where a strided view (stride 2, rows of 27) is several times slower. Places with ``i >= H_out``
or ``j >= W_out`` (and those a shift wraps into the next row) are garbage: forward passes drop
them, and backward passes give them ``dy = 0``, so they add nothing. (The same row-as-a-line
trick as ``_shifted.py``.)
"""

import numpy as np


class PhaseGrid:
    """The phase-plane layout of a padded ``(N, C, H_p, W_p)`` input for kernel ``k``, stride
    ``s`` and output size ``out_hw`` (all pairs)."""

    def __init__(self, xp_shape, k, s, out_hw):
        n, c, hp, wp = xp_shape
        self.k, self.s, self.out_hw, self.xp_shape = k, s, out_hw, xp_shape
        # Planes of ceil(H_p / s_h) x ceil(W_p / s_w): the input is padded up to s_h H_q x s_w W_q.
        self.hq, self.wq = -(-hp // s[0]), -(-wp // s[1])
        self.length = n * c * self.hq * self.wq
        # The longest shift, (k_h - 1) // s_h rows and (k_w - 1) // s_w columns, must stay inside.
        self.span = self.length - ((k[0] - 1) // s[0]) * self.wq - (k[1] - 1) // s[1]

    def offsets(self):
        """``(u, v, a, b, shift)`` for every window offset, in row-major order: its plane
        ``(a, b)`` and the shift that lines it up with the windows."""
        s, wq = self.s, self.wq
        for u in range(self.k[0]):
            for v in range(self.k[1]):
                yield u, v, u % s[0], v % s[1], (u // s[0]) * wq + v // s[1]

    def split(self, xp, fill):
        """The planes of ``xp`` as one contiguous ``(s_h, s_w, N C H_q W_q)`` array; the
        rows and columns added to round the size up hold ``fill``."""
        n, c, hp, wp = self.xp_shape
        s = self.s
        extra = ((0, 0), (0, 0), (0, self.hq * s[0] - hp), (0, self.wq * s[1] - wp))
        if any(e[1] for e in extra):
            xp = np.pad(xp, extra, constant_values=fill)
        # (N, C, H_q s_h, W_q s_w) -> (N, C, H_q, s_h, W_q, s_w): row i s_h + a is (i, a), a view.
        planes = xp.reshape(n, c, self.hq, s[0], self.wq, s[1])
        # Phase axes first, then copy: plane (a, b) becomes one contiguous run of N C H_q W_q.
        return planes.transpose(3, 5, 0, 1, 2, 4).reshape(s[0], s[1], self.length)

    def merge(self, dplanes):
        """Back from ``(s_h, s_w, N C H_q W_q)`` planes to a new padded ``(N, C, H_p, W_p)`` array."""
        n, c, hp, wp = self.xp_shape
        s = self.s
        out = np.empty((n, c, self.hq, s[0], self.wq, s[1]), dtype=dplanes.dtype)
        # Plane (a, b) fills rows a::s_h and columns b::s_w;
        # (N C H_q W_q,) -> (N, C, H_q, W_q) to match them.
        for a in range(s[0]):
            for b in range(s[1]):
                out[:, :, :, a, :, b] = dplanes[a, b].reshape(n, c, self.hq, self.wq)
        # (N, C, H_q, s_h, W_q, s_w) -> (N, C, H_q s_h, W_q s_w), then drop the rounding.
        return out.reshape(n, c, self.hq * s[0], self.wq * s[1])[:, :, :hp, :wp]

    def to_grid(self, a):
        """An ``(N, C, H_out, W_out)`` array on the window grid: a flat ``(N C H_q W_q,)``
        array, zero where no window is."""
        n, c = a.shape[:2]
        grid = np.zeros((n, c, self.hq, self.wq), dtype=a.dtype)
        grid[:, :, : self.out_hw[0], : self.out_hw[1]] = a
        # (N, C, H_q, W_q) -> (N C H_q W_q,): window (i, j) at i W_q + j of its plane.
        return grid.reshape(-1)


def window_max(planes, g):
    """The maximum of every window, on the flat grid ``(span,)``: one np.maximum per offset."""
    ymax = None
    for _, _, a, b, shift in g.offsets():
        x_uv = planes[a, b, shift : shift + g.span]
        ymax = x_uv.copy() if ymax is None else np.maximum(ymax, x_uv, out=ymax)
    return ymax


def first_maxima(planes, g, ymax):
    """For every offset in row-major order, yield ``(o, a, b, shift, hit)``: ``hit`` (a reused
    boolean buffer, ``(span,)``) marks the windows whose first maximum in row-major order is at
    this offset (PyTorch's tie rule)."""
    # ``open_`` marks the windows whose maximum no earlier offset has claimed.
    open_ = np.ones(g.span, dtype=bool)
    hit = np.empty(g.span, dtype=bool)
    for o, (_, _, a, b, shift) in enumerate(g.offsets()):
        np.equal(planes[a, b, shift : shift + g.span], ymax, out=hit)
        hit &= open_
        open_ ^= hit
        yield o, a, b, shift, hit


def from_grid(flat, g, n, c):
    """Back from the flat grid ``(span,)`` to the windows, a new ``(N, C, H_out, W_out)`` array."""
    grid = np.zeros(g.length, dtype=flat.dtype)
    grid[: g.span] = flat
    # (N C H_q W_q,) -> (N, C, H_q, W_q); the windows are its top-left H_out x W_out corner.
    return grid.reshape(n, c, g.hq, g.wq)[:, :, : g.out_hw[0], : g.out_hw[1]].copy()


def max_pool_with_offsets(xp, k, s, out_hw):
    """``(y, r)``: the maximum of each window of ``xp`` (padded with ``-inf``) and its offset
    ``r = u k_w + v`` in the window (the first in row-major order), both ``(N, C, H_out, W_out)``."""
    g = PhaseGrid(xp.shape, k, s, out_hw)
    planes = g.split(xp, -np.inf)
    ymax = window_max(planes, g)
    r = np.zeros(g.span, dtype=np.min_scalar_type(k[0] * k[1]))
    for o, _, _, _, hit in first_maxima(planes, g, ymax):
        r += hit * r.dtype.type(o)
    n, c = xp.shape[:2]
    return from_grid(ymax, g, n, c), from_grid(r, g, n, c)


# Work on about this many bytes of input at a time: a block's planes, masks and gradients then
# stay in the CPU's cache between the dozen passes over them (about 1.5-2x faster on AlexNet's
# POOL1 than one pass over all 8 x 96 planes). Inputs up to 4 blocks go in one piece: blocks
# would save little there and cost the copy that joins them (LeNet's S2 is 1.2 MB).
BLOCK_BYTES = 1 << 20


def in_blocks(step, arrays, *args):
    """``step(*blocks, *args)`` on blocks of whole ``(image, channel)`` planes of ``arrays``
    (each ``(N, C, ...)``), about ``BLOCK_BYTES`` of the largest each; the ``(N, C, ...)``
    results of the blocks joined into one array."""
    if max(a.nbytes for a in arrays) <= 4 * BLOCK_BYTES:
        return step(*arrays, *args)
    n, c = arrays[0].shape[:2]
    # (N, C, H, W) -> (N C, 1, H, W): one plane per row, so blocks may cut across images.
    flat = [a.reshape((n * c, 1) + a.shape[2:]) for a in arrays]
    per_block = max(1, BLOCK_BYTES // max(a[0].nbytes for a in flat))
    parts = [step(*(a[i : i + per_block] for a in flat), *args) for i in range(0, n * c, per_block)]
    joined = np.concatenate(parts)
    # (N C, 1, ...) -> (N, C, ...)
    return joined.reshape((n, c) + joined.shape[2:])


def max_pool_backward(dy, xp, k, s, out_hw):
    """``dx`` (padded, ``xp``'s shape) of max pooling: each ``dy`` goes to the first maximum of
    its window in row-major order (PyTorch's tie rule). ``xp`` is padded with ``-inf``."""
    return in_blocks(_max_pool_backward, (dy, xp), k, s, out_hw)


def _max_pool_backward(dy, xp, k, s, out_hw):
    g = PhaseGrid(xp.shape, k, s, out_hw)
    planes = g.split(xp, -np.inf)
    ymax = window_max(planes, g)
    dy_grid = g.to_grid(dy)[: g.span]
    dplanes = np.zeros(planes.shape, dtype=dy.dtype)
    for _, a, b, shift, hit in first_maxima(planes, g, ymax):
        # Multiplying by the 0/1 mask is much faster than np.where on a random mask.
        d_uv = dplanes[a, b, shift : shift + g.span]
        if shift == 0:
            # The first offset to reach plane (a, b): the plane is still zero, so write.
            np.multiply(dy_grid, hit, out=d_uv)
        else:
            # Overlapping windows (stride < kernel) share entries: their gradients add.
            d_uv += dy_grid * hit
    return g.merge(dplanes)


def avg_pool_backward(dy, xp_shape, k, s, out_hw):
    """``dx`` (padded, of shape ``xp_shape``) of average pooling: ``dy / (k_h k_w)`` to every
    entry of its window."""
    g = PhaseGrid(xp_shape, k, s, out_hw)
    share = g.to_grid(dy / (k[0] * k[1]))[: g.span]
    dplanes = np.zeros((s[0], s[1], g.length), dtype=share.dtype)
    for _, _, a, b, shift in g.offsets():
        d_uv = dplanes[a, b, shift : shift + g.span]
        if shift == 0:
            d_uv[...] = share  # the first offset to reach this plane
        else:
            d_uv += share
    return g.merge(dplanes)


def nmax_chosen(planes, g, n):
    """For each window offset, in row-major order, a boolean ``(span,)`` array: is this entry
    among the ``n`` largest of its window? Equal values rank by position (the earlier entry
    first), as a stable sort would. ``planes`` must hold no NaN."""
    span = g.span
    values = [planes[a, b, shift : shift + span] for _, _, a, b, shift in g.offsets()]
    m = len(values)
    # An entry is among the n largest when fewer than n entries beat it. Of two entries, the
    # later one beats the earlier only when it is strictly larger; otherwise the earlier wins.
    beaten = np.zeros((m, span), dtype=np.min_scalar_type(m))
    for o in range(m):
        for q in range(o + 1, m):
            later_wins = values[q] > values[o]
            beaten[o] += later_wins
            np.logical_not(later_wins, out=later_wins)
            beaten[q] += later_wins
    return beaten < n


def nmax_pool_forward(xp, k, s, out_hw, n):
    """The mean of the ``n`` largest values of each window of ``xp`` (padded with ``-inf``,
    otherwise finite), as a new ``(N, C, H_out, W_out)`` array."""
    return in_blocks(_nmax_pool_forward, (xp,), k, s, out_hw, n)


def _nmax_pool_forward(xp, k, s, out_hw, n):
    g = PhaseGrid(xp.shape, k, s, out_hw)
    planes = g.split(xp, -np.inf)
    chosen = nmax_chosen(planes, g, n)
    # The padding is never chosen, but -inf * 0 would be NaN: count it as 0 in the products.
    if np.isneginf(planes).any():
        planes = np.where(np.isneginf(planes), 0, planes)
    total = np.zeros(g.span, dtype=planes.dtype)
    for o, (_, _, a, b, shift) in enumerate(g.offsets()):
        total += planes[a, b, shift : shift + g.span] * chosen[o]
    y = from_grid(total, g, xp.shape[0], xp.shape[1])
    y /= n
    return y


def nmax_pool_backward(dy, xp, k, s, out_hw, n):
    """``dx`` (padded, ``xp``'s shape) of N-max pooling: ``dy / n`` to each of the ``n`` chosen
    entries of its window. ``xp`` is padded with ``-inf`` and otherwise finite."""
    return in_blocks(_nmax_pool_backward, (dy, xp), k, s, out_hw, n)


def _nmax_pool_backward(dy, xp, k, s, out_hw, n):
    g = PhaseGrid(xp.shape, k, s, out_hw)
    chosen = nmax_chosen(g.split(xp, -np.inf), g, n)
    share = g.to_grid(dy / n)[: g.span]
    dplanes = np.zeros((s[0], s[1], g.length), dtype=share.dtype)
    for o, (_, _, a, b, shift) in enumerate(g.offsets()):
        d_uv = dplanes[a, b, shift : shift + g.span]
        if shift == 0:
            np.multiply(share, chosen[o], out=d_uv)  # the first offset to reach this plane
        else:
            d_uv += share * chosen[o]
    return g.merge(dplanes)
