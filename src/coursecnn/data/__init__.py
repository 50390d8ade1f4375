"""Data that ships with the package: MNIST digits and a photograph. Nothing is downloaded.

- :func:`load_digits`: 10,000 real MNIST digits (8,000 train / 2,000 test, a fixed stratified
  split), checksummed on load; :func:`load_digit_split` gives both halves at once.
- :func:`load_mnist`: the full MNIST from its IDX files, for readers who have them.
- :func:`load_photo`: a grayscale or colour photograph for the kernel demos.
- :func:`digit_loaders`, :func:`make_loader`: PyTorch ``DataLoader`` s, shuffled reproducibly.
- :func:`shift_images`, :func:`random_shifts`, :func:`shift_loader`: augmentation by shifts.
"""

from .augment import random_shifts, shift_images, shift_loader
from .idx import load_mnist, read_idx
from .loaders import digit_loaders, make_loader
from .mnist import load_digit_split, load_digits
from .photo import load_photo, resize_area

__all__ = ["load_digits", "load_digit_split", "load_mnist", "read_idx", "load_photo", "resize_area", "digit_loaders", "make_loader"]
__all__ += ["shift_images", "random_shifts", "shift_loader"]
