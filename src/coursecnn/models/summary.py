"""A layer-by-layer table of a model: output shapes, parameters, multiply-adds."""

import html
import numbers
import reprlib
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

__all__ = ["Summary", "SummaryRow", "summary"]


class SummaryRow(NamedTuple):
    """One leaf layer: ``name`` (its path in the model), ``type`` (class name), ``output_shape``
    (one sample, torch order ``(C, H, W)`` or ``(F,)``), ``params`` and ``mult_adds`` (per sample)."""

    name: str
    type: str
    output_shape: tuple
    params: int
    mult_adds: int


def _lecture_shape(shape):
    # The lectures write maps as H x W x C ("55x55x96"); vectors as their length.
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(str(s) for s in shape)


class Summary:
    """The table ``summary`` returns: ``rows`` (a list of ``SummaryRow``), ``total_params``,
    ``trainable_params`` and ``total_mult_adds``. ``str()`` renders aligned text, and in a notebook
    it shows as an HTML table. Shapes are shown in the lectures' ``H x W x C`` notation."""

    headers = ("layer", "type", "output", "params", "mult-adds")

    def __init__(self, rows, total_params, trainable_params, input_shape):
        self.rows = list(rows)
        self.total_params = int(total_params)
        self.trainable_params = int(trainable_params)
        self.total_mult_adds = sum(r.mult_adds for r in self.rows)
        self.input_shape = tuple(input_shape)

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key):
        """A row by position, or by layer name (``s["features.c1"]`` or just ``s["c1"]``)."""
        if isinstance(key, str):
            for r in self.rows:
                if r.name == key or r.name.rsplit(".", 1)[-1] == key:
                    return r
            raise KeyError(f"no layer named {key!r}; the layers are {[r.name for r in self.rows]}")
        return self.rows[key]

    def _cells(self):
        body = [
            (r.name, r.type, _lecture_shape(r.output_shape), f"{r.params:,}", f"{r.mult_adds:,}") for r in self.rows
        ]
        foot = ("total", "", "", f"{self.total_params:,}", f"{self.total_mult_adds:,}")
        return body, foot

    def __str__(self):
        body, foot = self._cells()
        table = [self.headers, *body, foot]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.headers))]

        def line(row):
            left = [row[i].ljust(widths[i]) for i in range(3)]
            right = [row[i].rjust(widths[i]) for i in range(3, 5)]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(line(self.headers))
        return "\n".join(
            [f"input: {_lecture_shape(self.input_shape)}", line(self.headers), rule, *map(line, body), rule, line(foot)]
        )

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        body, foot = self._cells()
        esc = html.escape
        # Inline styles, so the table looks the same in Jupyter and in the book: room between
        # columns (names such as "LocalResponseNorm" would otherwise run into the shapes).
        pad = "padding:2px 12px"
        left, right = f' style="{pad};text-align:left"', f' style="{pad};text-align:right"'
        head = "".join(f"<th{left if i < 3 else right}>{esc(h)}</th>" for i, h in enumerate(self.headers))

        def tr(row, cell="td"):
            cells = [f"<{cell}{left}>{esc(v)}</{cell}>" for v in row[:3]]
            cells += [f"<{cell}{right}>{esc(v)}</{cell}>" for v in row[3:]]
            return "<tr>" + "".join(cells) + "</tr>"

        rows = "".join(tr(r) for r in body)
        return (
            f'<table class="coursecnn-summary"><caption>input: {esc(_lecture_shape(self.input_shape))}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody><tfoot>{tr(foot, 'th')}</tfoot></table>"
        )


def _mult_adds(module, out):
    # Multiply-adds per sample: each output of a convolution is a dot product of length
    # (C_in / groups) * F_h * F_w; each output of a linear layer one of length in_features.
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        per_output = module.in_channels // module.groups
        for k in module.kernel_size:
            per_output *= k
        return out[0].numel() * per_output
    if isinstance(module, nn.Linear):
        return out[0].numel() * module.in_features
    return 0


def _describe(value):
    """A bad ``input_shape`` for a message: a tensor or an array is not printed whole."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return f"a {type(value).__name__} of shape {tuple(value.shape)} (pass its .shape, not the data)"
    return reprlib.repr(value)


def _expected_shape(model):
    """The input shape a model declares (``model.input_shape``, e.g. ``(1, 32, 32)``), or None."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, (tuple, list)) and all(isinstance(s, numbers.Integral) for s in shape):
        return tuple(int(s) for s in shape)
    return None


def summary(model, input_shape):
    """summary(model, input_shape) -> Summary

    Runs one zero sample through ``model`` (in eval mode, without gradients, then restores
    its mode) and records, for every leaf module, the output shape, its own parameter count
    and its multiply-adds, with forward hooks.

    Args:
        model (nn.Module): the network.
        input_shape (tuple): one sample ``(C, H, W)``, or a batch ``(N, C, H, W)`` (only the
            first sample's numbers are reported). The models of ``coursecnn.models`` with a fixed
            input size say which in their ``input_shape`` attribute (``LeNet5().input_shape`` is
            ``(1, 32, 32)``).

    Returns:
        Summary: ``.rows``, ``.total_params``, ``str()`` an aligned table.

    Raises:
        ValueError: if ``input_shape`` is not 3 or 4 positive ints, or if a layer fails on the
            sample; the message names the layer, its type and the shape it was given (and the
            model's ``input_shape`` when it has one), followed by PyTorch's message.

    Example::

        >>> from coursecnn.models import LeNet5
        >>> s = summary(LeNet5(), (1, 32, 32))
        >>> s["c1"].output_shape, s.total_params
        ((6, 28, 28), 61706)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary expects a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or not all(  # torch.Size is a tuple
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in input_shape
    ):
        raise ValueError(
            f"summary: input_shape must be a tuple of positive ints such as (1, 32, 32), got {_describe(input_shape)}"
        )
    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (3, 4):
        raise ValueError(
            f"summary: input_shape must be one sample (C, H, W) or a batch (N, C, H, W), got {shape} "
            f"({len(shape)} values)"
        )
    if len(shape) == 4:
        shape = shape[1:]  # a batch of images was given: report one sample
    rows = _probe(model, shape, "summary")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return Summary(rows, total, trainable, shape)


def _probe(model, shape, who):
    """Run one zero sample of ``shape`` (without the batch axis) through ``model`` in eval mode and
    without gradients, and return a ``SummaryRow`` per leaf module. A failing layer becomes a
    ``ValueError`` starting with ``who`` that names the layer, its input and the model's
    ``input_shape``. ``summary`` reports the rows; ``train`` calls this before its first step."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.dtype.is_floating_point else torch.get_default_dtype()

    rows, hooks = [], []
    running = {}  # the leaf whose forward has started and not finished: the one that failed
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue  # containers: their leaves report

        def pre_hook(mod, inputs, name=name):
            x = inputs[0] if inputs else None
            in_shape = tuple(x.shape) if isinstance(x, torch.Tensor) else None
            running["layer"] = (name or type(mod).__name__, type(mod).__name__, in_shape)

        def hook(mod, inputs, output, name=name):
            out = output[0] if isinstance(output, (tuple, list)) else output
            rows.append(
                SummaryRow(
                    name or type(mod).__name__,
                    type(mod).__name__,
                    tuple(out.shape[1:]),
                    sum(p.numel() for p in mod.parameters(recurse=False)),
                    _mult_adds(mod, out),
                )
            )
            running.pop("layer", None)

        hooks.append(module.register_forward_pre_hook(pre_hook))
        hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=device, dtype=dtype))
    except Exception as exc:
        raise ValueError(_failure(model, (1, *shape), running.get("layer"), rows, exc, who)) from exc
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def _failure(model, batch_shape, layer, rows, exc, who="summary"):
    """The message of a forward pass that failed inside ``summary``."""
    reason = str(exc).strip() or type(exc).__name__
    if layer is not None:
        name, kind, in_shape = layer
        where = f"layer '{name}' ({kind}) failed" + (f" on input of shape {in_shape}" if in_shape is not None else "")
    elif rows:
        last = rows[-1]
        where = (
            f"{type(model).__name__} failed after layer '{last.name}' ({last.type}), whose output has "
            f"shape {(1, *last.output_shape)}"
        )
    else:
        where = f"{type(model).__name__} failed on input of shape {batch_shape}"
    expected = _expected_shape(model)
    hint = f"; {type(model).__name__} expects input {expected}" if expected is not None else ""
    return f"{who}: {where}: {reason}{hint}"
