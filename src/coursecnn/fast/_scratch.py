"""Scratch memory kept from one call to the next.

A convolution's columns are a few megabytes of temporary memory. Allocated afresh on every call,
such a block often comes straight from the operating system, which hands it over one zeroed
page at a time: on the project's 2-core machine that made a small convolution (CS231n's shape,
0.4 ms of work) take 2.7 ms. Keeping the block for the next call avoids it. Each thread has its
own blocks, so two threads never share one, and blocks larger than ``KEEP_BYTES`` are not kept.
"""

import threading

import numpy as np

KEEP_BYTES = 1 << 26  # 64 MB: scratch larger than this is freed after use

_local = threading.local()


def scratch(role, shape, dtype):
    """An uninitialised ``shape`` array of ``dtype`` for temporary use inside one call: the same
    memory every time a thread asks for ``role``, so what was there before is overwritten. Never
    return it (or a view of it) to a caller."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    pool = _local.__dict__.setdefault("pool", {})
    block = pool.get(role)
    if block is None or block.nbytes < nbytes:
        block = np.empty(max(nbytes, 1), np.uint8)
        if nbytes <= KEEP_BYTES:
            pool[role] = block
    return block[:nbytes].view(dtype).reshape(shape)
