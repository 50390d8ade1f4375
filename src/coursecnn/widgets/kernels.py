"""Preset kernels for the kernel explorer: the lectures' edge detectors, blurs and Sobel filters."""

import numpy as np

__all__ = ["KERNELS", "KERNEL_LABELS", "LECTURE_KERNEL"]

# The 3x3 kernel of the lecture's worked 6x6 example (its first output is 0.5).
LECTURE_KERNEL = np.array([[0.0, 0.0, 0.5], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5]])

_BINOMIAL5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])
_BINOMIAL3 = np.array([1.0, 2.0, 1.0])

#: Presets by name, each a float64 array of shape (F, F). Read-only: copy before editing.
KERNELS = {
    "identity": np.array([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    # the lectures' "edge detection 1" (all 8 neighbours) and "edge detection 2" (4 neighbours)
    "edge_detection_1": np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "edge_detection_2": np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "box_blur": np.full((3, 3), 1.0 / 9),
    "gaussian_blur_3x3": np.outer(_BINOMIAL3, _BINOMIAL3) / 16,
    "gaussian_blur_5x5": np.outer(_BINOMIAL5, _BINOMIAL5) / 256,
    "sharpen": np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    # Sobel x responds to vertical edges (left-to-right change), Sobel y to horizontal ones.
    "sobel_x": np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "lecture_example": LECTURE_KERNEL,
}
for _k in KERNELS.values():
    _k.setflags(write=False)

KERNEL_LABELS = {
    "identity": "identity",
    "edge_detection_1": "edge detection 1 (8 neighbours)",
    "edge_detection_2": "edge detection 2 (4 neighbours)",
    "box_blur": "box blur (1/9)",
    "gaussian_blur_3x3": "Gaussian blur 3\u00d73 (/16)",
    "gaussian_blur_5x5": "Gaussian blur 5\u00d75 (/256)",
    "sharpen": "sharpen",
    "sobel_x": "Sobel x (vertical edges)",
    "sobel_y": "Sobel y (horizontal edges)",
    "lecture_example": "the lecture's worked example",
}
