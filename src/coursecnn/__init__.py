"""coursecnn: the package under the coursecnn book.

- ``coursecnn.arith``: output sizes, parameter and multiplication counts (pure Python).
- ``coursecnn.ref``: NumPy reference implementations, written to be read.
- ``coursecnn.torch``: the same operations in PyTorch, on any device.
- ``coursecnn.models``, ``coursecnn.data``, ``coursecnn.train``, ``coursecnn.widgets``.
- ``coursecnn.visualize``: saliency, occlusion and Zeiler-Fergus projections of a trained network.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("coursecnn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "device"]


def device(prefer=None):
    """device(prefer=None) -> torch.device

    The best available torch device: CUDA, then Apple's MPS, then the CPU.

    Args:
        prefer (str, optional): ``"cuda"``, ``"mps"`` or ``"cpu"`` to ask for one device; it is
            returned when available, otherwise a ``RuntimeError`` says why. Default: ``None``
            (pick the best).

    Example::

        >>> import coursecnn
        >>> coursecnn.device().type in {"cuda", "mps", "cpu"}
        True
    """
    import torch

    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        "cpu": True,
    }
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"device(prefer=...) expects 'cuda', 'mps' or 'cpu', got {prefer!r}")
        if not available[prefer]:
            raise RuntimeError(f"device {prefer!r} was asked for but is not available on this machine")
        return torch.device(prefer)
    for name in ("cuda", "mps", "cpu"):
        if available[name]:
            return torch.device(name)
