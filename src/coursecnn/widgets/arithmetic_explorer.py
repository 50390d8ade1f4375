"""ArithmeticExplorer: input size, kernel, padding, stride, dilation -> output size, drawn."""

import ipywidgets as W

from .. import arith
from . import _html

__all__ = ["ArithmeticExplorer"]


class ArithmeticExplorer(W.VBox):
    """ArithmeticExplorer(input_size=7, kernel_size=3, padding=0, stride=2, dilation=1, transposed=False)

    Draws the padded input, the kernel's window at each position (step with the slider or the
    buttons) and the output grid, with the size formula filled in. Sizes come from
    ``coursecnn.arith``: ``conv_output_size`` (strict, so a stride that doesn't fit says so) and
    ``transposed_conv_output_size``.

    Read back ``.output_size`` (``None`` when there is no output), ``.formula``, ``.message``
    and ``.step``; change things with ``.set(input_size=..., kernel_size=..., padding=...,
    stride=..., dilation=..., transposed=...)`` and ``.next_step()`` / ``.previous_step()``.

    Example::

        >>> from coursecnn.widgets import ArithmeticExplorer
        >>> ex = ArithmeticExplorer(input_size=7, kernel_size=3, stride=3)
        >>> ex.output_size, "doesn't fit" in ex.message
        (2, True)
    """

    _NAMES = ("input_size", "kernel_size", "padding", "stride", "dilation")

    def __init__(self, input_size=7, kernel_size=3, padding=0, stride=2, dilation=1, transposed=False):
        self._busy = False
        lay = W.Layout(width="230px")
        self._w = {
            "input_size": W.IntSlider(description="input n", min=1, max=16, value=input_size, layout=lay),
            "kernel_size": W.IntSlider(description="kernel f", min=1, max=7, value=kernel_size, layout=lay),
            "padding": W.IntSlider(description="padding p", min=0, max=4, value=padding, layout=lay),
            "stride": W.IntSlider(description="stride s", min=1, max=4, value=stride, layout=lay),
            "dilation": W.IntSlider(description="dilation d", min=1, max=3, value=dilation, layout=lay),
            "transposed": W.Checkbox(description="transposed", value=bool(transposed)),
        }
        self._step_w = W.IntSlider(description="window", min=0, max=0, layout=W.Layout(width="300px"))
        prev_b, next_b = W.Button(description="\u25c0", layout=W.Layout(width="40px")), W.Button(description="\u25b6", layout=W.Layout(width="40px"))
        prev_b.on_click(lambda _: self.previous_step())
        next_b.on_click(lambda _: self.next_step())
        self._picture = W.HTML()
        self._text = W.HTML()
        for w in self._w.values():
            w.observe(lambda ch: self._busy or self._update(reset=True), "value")
        self._step_w.observe(lambda ch: self._busy or self._draw(), "value")
        super().__init__(children=[
            W.HBox([self._w["input_size"], self._w["kernel_size"], self._w["padding"]]),
            W.HBox([self._w["stride"], self._w["dilation"], self._w["transposed"]]),
            W.HBox([prev_b, next_b, self._step_w]),
            self._picture, self._text,
        ])
        self._update(reset=True)

    @property
    def widget(self):
        return self

    @property
    def output_size(self):
        return self._size

    @property
    def formula(self):
        return self._formula

    @property
    def message(self):
        return self._message

    @property
    def step(self):
        return self._step_w.value

    def set(self, **values):
        """Set any of input_size, kernel_size, padding, stride, dilation, transposed."""
        unknown = sorted(set(values) - set(self._w))
        if unknown:
            raise TypeError(f"set() got unknown name(s) {unknown}; expected some of {sorted(self._w)}")
        for name, value in values.items():
            w = self._w[name]
            if name != "transposed" and not (isinstance(value, int) and w.min <= value <= w.max):
                raise ValueError(f"{name} must be an int from {w.min} to {w.max}, got {value!r}")
        self._busy = True
        try:
            for name, value in values.items():
                self._w[name].value = value
        finally:
            self._busy = False
        self._update(reset=True)

    def next_step(self):
        if self._size:
            self._step_w.value = (self._step_w.value + 1) % (self._size * self._size)

    def previous_step(self):
        if self._size:
            self._step_w.value = (self._step_w.value - 1) % (self._size * self._size)

    def _update(self, reset=False):
        n, f, p, s, d = (self._w[k].value for k in self._NAMES)
        self._message = ""
        if self._w["transposed"].value:
            self._formula = (f"o = (n - 1)\u00b7s - 2p + d\u00b7(f - 1) + 1 = ({n} - 1)\u00b7{s} - 2\u00b7{p} + {d}\u00b7({f} - 1) + 1")
            try:
                self._size = arith.transposed_conv_output_size(n, f, stride=s, padding=p, dilation=d)
                self._formula += f" = {self._size}"
                if p > d * (f - 1):
                    self._message = f"This picture needs padding \u2264 d\u00b7(f - 1) = {d * (f - 1)}; the size above is still right."
            except ValueError as err:
                self._size, self._message = None, str(err)
        else:
            self._formula = f"o = (n + 2p - d\u00b7(f - 1) - 1)/s + 1 = ({n} + 2\u00b7{p} - {d}\u00b7({f} - 1) - 1)/{s} + 1"
            try:
                self._size = arith.conv_output_size(n, f, stride=s, padding=p, dilation=d)
                self._formula += f" = {self._size}"
            except ValueError as err:
                self._message = str(err)
                try:
                    self._size = arith.conv_output_size(n, f, stride=s, padding=p, dilation=d, strict=False)
                except ValueError:
                    self._size = None
                else:
                    # The stride does not tile the input: say so in the formula's own terms, as the
                    # book's JavaScript explorer does, and draw the floored output.
                    span = n + 2 * p - d * (f - 1) - 1
                    exact, left = span / s + 1, span - (self._size - 1) * s
                    self._formula += f" = {exact:.2f}"
                    self._message = (
                        f"Stride {s} doesn't fit: ({n} + 2\u00b7{p} - {d}\u00b7({f} - 1) - 1)/{s} + 1 = "
                        f"{exact:.2f} is not a whole number. PyTorch (and coursecnn.ref) floor it to "
                        f"{self._size}: the last {left} {'row and column' if left == 1 else 'rows and columns'} "
                        "of the padded input are never used."
                    )
        total = (self._size or 1) ** 2 - 1
        self._busy = True
        try:
            self._step_w.max = total
            if reset:
                self._step_w.value = 0
        finally:
            self._busy = False
        self._draw()

    def _draw(self):
        n, f, p, s, d = (self._w[k].value for k in self._NAMES)
        text = _html.note(self._formula) + _html.note(self._message, warn=bool(self._message))
        self._text.value = text
        o = self._size
        if not o or (self._w["transposed"].value and p > d * (f - 1)):
            self._picture.value = ""
            return
        if self._w["transposed"].value:
            # stride-1 convolution over the input with s-1 zeros between pixels, d(f-1)-p around
            q, inner = d * (f - 1) - p, (n - 1) * s + 1
            size, stride, pad = inner + 2 * q, 1, q

            def real(i):
                return q <= i < q + inner and (i - q) % s == 0
        else:
            size, stride, pad = n + 2 * p, s, p

            def real(i):
                return p <= i < p + n
        k = self._step_w.value
        r, c = divmod(k, o)
        used = (o - 1) * stride + d * (f - 1) + 1
        taps = {(r * stride + u * d, c * stride + v * d) for u in range(f) for v in range(f)}
        styles = {}
        for i in range(size):
            for j in range(size):
                st = []
                if not (real(i) and real(j)):
                    st.append("pad")
                if i >= used or j >= used:
                    st.append("unused")
                if (i, j) in taps:
                    st.append("tap")
                styles[(i, j)] = st
        import numpy as np

        left = _html.grid(np.zeros((size, size)), styles, title=f"padded input {size}\u00d7{size}", numbers=False,
                          caption="blue: zeros (padding), orange: the kernel's taps, red: never reached")
        out_styles = {divmod(i, o): (["now"] if i == k else ["picked"] if i < k else []) for i in range(o * o)}
        right = _html.grid(np.zeros((o, o)), out_styles, title=f"output {o}\u00d7{o}", numbers=False,
                           caption=f"window {k + 1} of {o * o}: output ({r}, {c})")
        self._picture.value = left + '<span style="font-size:20px;color:#888">\u2192</span>' + right
