"""Looking inside a trained network: saliency, occlusion and a Zeiler-Fergus projection.

- :func:`saliency` asks the gradient: which pixels would change the class score most if they
  changed a little?
- :func:`occlusion` asks by experiment: how much does the score drop when a patch is covered?
- :func:`deconv_projection` follows Zeiler and Fergus (2013): take one strong activation of a
  feature map and send it back down to pixel space through the layers that produced it, with
  unpooling through the recorded switches (``coursecnn.ref.max_unpool2d``), a ReLU, and the
  transposed convolution with the layer's own filters (``coursecnn.ref.conv_transpose2d``).
  The result shows which pattern of the input that unit responds to.
"""

import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["saliency", "occlusion", "deconv_projection", "Projection"]


# --------------------------------------------------------------------------- checks


def _model(model, fname):
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _batch(x, fname, like):
    """``x`` as a float tensor ``(N, C, H, W)`` on ``like``'s device and dtype (a parameter)."""
    from .torch._tensors import as_tensor

    x = as_tensor(x, "x", 4, "(N, C, H, W)")
    if like is not None:
        x = x.to(device=like.device, dtype=like.dtype)
    return x.detach()


def _first_parameter(model):
    return next(model.parameters(), None)


def _targets(target, scores, fname):
    """The class of each image: the given ones (an int or one per image) or the predicted ones."""
    import torch

    n, k = scores.shape
    if target is None:
        return scores.argmax(1)
    t = torch.as_tensor(target).reshape(-1)
    if t.is_floating_point() or t.dtype == torch.bool or t.numel() not in (1, n):
        raise ValueError(f"{fname}: target must be None, an int class or one int class per image ({n}), got {target!r}")
    if t.min() < 0 or t.max() >= k:
        raise ValueError(f"{fname}: target classes must be in [0, {k}) for a model with {k} outputs, got {target!r}")
    return t.to(scores.device).long().expand(n)


class _EvalMode:
    """Evaluation mode (no dropout, running batch-norm statistics) inside a ``with`` block."""

    def __init__(self, model):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


# --------------------------------------------------------------------------- saliency


def saliency(model, x, target=None):
    """saliency(model, x, target=None) -> Tensor

    The saliency map of Simonyan, Vedaldi and Zisserman (2013): the size of
    the gradient of the target class's score with respect to each pixel,
    ``|d score / d x|``, the largest over the colour channels. The model
    runs in evaluation mode; its mode is restored afterwards.

    Args:
        model (nn.Module): maps images ``(N, C, H, W)`` to scores ``(N, K)``.
        x: images ``(N, C, H, W)``. Not modified.
        target (int or sequence of ints, optional): the class of each image
            whose score is differentiated; ``None`` means the predicted
            class. Default: ``None``.

    Returns:
        Tensor ``(N, H, W)``, non-negative, on the model's device.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        >>> w = torch.tensor([[1.0, -2, 0, 3], [0, 0, 0, 0]])
        >>> with torch.no_grad():
        ...     _ = net[1].weight.copy_(w)
        >>> x = torch.ones(1, 1, 2, 2)
        >>> saliency(net, x, target=0)[0].tolist()  # a linear score: |w|
        [[1.0, 2.0], [0.0, 3.0]]
    """
    import torch

    model = _model(model, "saliency")
    x = _batch(x, "saliency", _first_parameter(model))
    x = x.requires_grad_(True)
    with _EvalMode(model), torch.enable_grad():
        scores = model(x)
        chosen = _targets(target, scores, "saliency")
        # Each image's score depends on that image only, so one backward
        # pass of their sum gives every image its own gradient.
        total = scores.gather(1, chosen[:, None]).sum()
        (grad,) = torch.autograd.grad(total, x)
    return grad.abs().amax(dim=1)


# --------------------------------------------------------------------------- occlusion


def occlusion(model, x, target=None, size=8, stride=4, fill=0.0, batch_size=256):
    """occlusion(model, x, target=None, size=8, stride=4, fill=0.0, batch_size=256) -> Tensor

    Zeiler and Fergus's occlusion experiment: cover a ``size x size`` square of the image
    with ``fill``, at every position of a grid with step ``stride``, and record the
    probability the model then gives the target class. Where the map is low, the covered part
    mattered. The model runs in evaluation mode, without gradients.

    Args:
        model (nn.Module): maps ``(N, C, H, W)`` images to class scores ``(N, K)``.
        x: images ``(N, C, H, W)``. Not modified.
        target (int or sequence of ints, optional): the class whose probability is recorded;
            ``None`` means the class predicted for the uncovered image. Default: ``None``.
        size (int): side of the square patch, at most ``min(H, W)``. Default: ``8``.
        stride (int): step between patch positions. Default: ``4``.
        fill (float): value of the covered pixels. Default: ``0.0``.
        batch_size (int): occluded copies per forward pass. Default: ``256``.

    Returns:
        Tensor ``(N, H_out, W_out)`` of probabilities, with ``H_out = (H - size) // stride + 1``
        (the output-size formula of a convolution): entry ``[n, i, j]`` is for the patch whose
        top-left corner is at ``(i * stride, j * stride)``.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
        >>> occlusion(net, torch.rand(2, 1, 4, 4), size=2, stride=2).shape
        torch.Size([2, 2, 2])
    """
    import torch

    from .arith import conv_output_size

    model = _model(model, "occlusion")
    x = _batch(x, "occlusion", _first_parameter(model))
    for name, v in (("size", size), ("stride", stride), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"occlusion: {name} must be a positive int, got {v!r}")
    n, c, h, w = x.shape
    if size > min(h, w):
        raise ValueError(f"occlusion: the patch ({size}x{size}) must fit the image ({h}x{w})")
    rows, cols = conv_output_size(h, size, stride, strict=False), conv_output_size(w, size, stride, strict=False)
    with _EvalMode(model), torch.no_grad():
        chosen = _targets(target, model(x), "occlusion")
        out = torch.empty(n, rows * cols, dtype=x.dtype, device=x.device)
        for i in range(n):
            copies = x[i].expand(rows * cols, c, h, w).clone()  # one covered copy per position
            for p in range(rows * cols):
                top, left = (p // cols) * stride, (p % cols) * stride
                copies[p, :, top : top + size, left : left + size] = fill
            probs = torch.cat([model(part).softmax(1) for part in copies.split(batch_size)])
            out[i] = probs[:, chosen[i]]
    return out.reshape(n, rows, cols)


# --------------------------------------------------------------------------- Zeiler-Fergus


class Projection(NamedTuple):
    """What :func:`deconv_projection` returns.

    Attributes:
        image (ndarray): the projection in pixel space, ``(C, H, W)`` like one input image.
        channel (int): the feature map that was projected.
        position (tuple): ``(row, col)`` of the strongest activation in that map.
        activation (float): its value.
    """

    image: np.ndarray
    channel: int
    position: tuple
    activation: float


def _layer_kind(module):
    from torch import nn

    if isinstance(module, nn.Conv2d):
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            raise ValueError(f"deconv_projection: {module} must use numeric zero padding")
        return "conv"
    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.MaxPool2d):
        if module.dilation not in (1, (1, 1)) or module.ceil_mode:
            raise ValueError(f"deconv_projection: {module} must have dilation 1 and ceil_mode=False")
        return "pool"
    raise ValueError(
        f"deconv_projection handles Conv2d, ReLU and MaxPool2d layers, got {type(module).__name__}: {module}"
    )


def _numpy(t):
    return t.detach().cpu().double().numpy()


def _missing(r, conv, in_shape):
    """The ``output_padding`` that gives a transposed convolution its input's size: the size
    formula may fall short by up to ``stride - 1`` rows or columns that the forward never read."""
    full = [
        (o - 1) * s - 2 * p + d * (k - 1) + 1
        for o, s, p, d, k in zip(r.shape[2:], conv.stride, conv.padding, conv.dilation, conv.kernel_size)
    ]
    return tuple(n - f for n, f in zip(in_shape[2:], full))


def deconv_projection(features, x, layer, channel=None):
    """deconv_projection(features, x, layer, channel=None) -> Projection

    Project the strongest activation of one feature map back to pixel space, as Zeiler and
    Fergus's *deconvnet* does. The forward pass runs the layers of ``features`` up to
    ``layer`` (NumPy, float64), recording the switches of every max pool. Then every
    activation of the chosen map but the strongest is set to zero, and the signal goes back
    down, layer by layer in reverse:

    - through a max pool: ``ref.max_unpool2d`` puts each value back where the switch says
      the maximum came from;
    - through a ReLU: a ReLU again, so only positive evidence is passed on;
    - through a convolution: ``ref.conv_transpose2d`` with the same filters (the bias is
      not used), the map from the layer's output space back to its input space.

    Args:
        features (nn.Sequential): ``Conv2d``, ``ReLU`` and ``MaxPool2d`` layers, input side
            first (e.g. ``LeNet5().features``).
        x: one image, ``(C, H, W)`` or ``(1, C, H, W)``. Not modified.
        layer (str or int): the name (``"c3"``) or index of the last layer to run.
        channel (int, optional): the feature map to project; ``None`` picks the map with the
            strongest activation. Default: ``None``.

    Returns:
        :class:`Projection` ``(image, channel, position, activation)``.

    Example::

        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
        >>> p = deconv_projection(net, torch.rand(1, 8, 8), layer=2)
        >>> p.image.shape, p.channel in (0, 1)
        ((1, 8, 8), True)
    """
    from torch import nn

    from . import ref

    if not isinstance(features, nn.Sequential):
        raise TypeError(f"deconv_projection: features must be an nn.Sequential of layers, got {type(features).__name__}")
    names = [name for name, _ in features.named_children()]
    if isinstance(layer, str) and layer in names:
        stop = names.index(layer)
    elif isinstance(layer, numbers.Integral) and not isinstance(layer, bool) and -len(names) <= layer < len(names):
        stop = layer % len(names)
    else:
        raise ValueError(f"deconv_projection: layer must be one of {names} or an index below {len(names)}, got {layer!r}")
    modules = list(features.children())[: stop + 1]
    kinds = [_layer_kind(m) for m in modules]

    img = np.asarray(_numpy(x) if hasattr(x, "detach") else x, dtype=np.float64)
    if img.ndim == 3:
        img = img[None]
    if img.ndim != 4 or img.shape[0] != 1:
        raise ValueError(f"deconv_projection: x must be one image (C, H, W) or (1, C, H, W), got shape {img.shape}")

    # Forward, keeping what the way back needs: each layer's input size and the switches.
    a, trace = img, []
    for m, kind in zip(modules, kinds):
        if kind == "conv":
            trace.append((a.shape, None))
            b = None if m.bias is None else _numpy(m.bias)
            a = ref.conv2d(a, _numpy(m.weight), b, m.stride, m.padding, m.dilation, m.groups)
        elif kind == "relu":
            trace.append((a.shape, None))
            a = np.maximum(a, 0.0)
        else:
            trace.append((a.shape, None))
            y, switches = ref.max_pool2d_with_indices(a, m.kernel_size, m.stride, m.padding)
            trace[-1] = (a.shape, switches)
            a = y

    if channel is None:
        channel = int(np.unravel_index(np.argmax(a[0]), a.shape[1:])[0])
    elif isinstance(channel, bool) or not isinstance(channel, numbers.Integral) or not 0 <= channel < a.shape[1]:
        raise ValueError(f"deconv_projection: channel must be an int in [0, {a.shape[1]}), got {channel!r}")
    channel = int(channel)
    row, col = np.unravel_index(np.argmax(a[0, channel]), a.shape[2:])
    r = np.zeros_like(a)
    r[0, channel, row, col] = a[0, channel, row, col]  # the one activation we follow down

    # Back down, last layer first.
    steps = list(zip(modules, kinds, trace))
    for m, kind, (in_shape, switches) in reversed(steps):
        if kind == "pool":  # each value back where its maximum came from
            r = ref.max_unpool2d(r, switches, m.kernel_size, m.stride,
                                 m.padding, output_size=in_shape[2:])
        elif kind == "relu":  # pass on positive evidence only
            r = np.maximum(r, 0.0)
        else:  # the same filters, transposed; no bias
            r = ref.conv_transpose2d(r, _numpy(m.weight), None, m.stride,
                                     m.padding, _missing(r, m, in_shape),
                                     m.groups, m.dilation)
    return Projection(r[0], channel, (int(row), int(col)), float(a[0, channel, row, col]))
