"""Data-parallel training with PyTorch's DistributedDataParallel (DDP).

AlexNet was split across two GPUs because one could not hold it. Today the usual way to use
several devices is the opposite split: every process holds a whole copy of the model, trains on
its own shard of each epoch's examples, and after every backward pass the gradients are averaged
across processes (an all-reduce), so every copy takes the same step and the copies never drift.

Launch one process per device with ``torchrun``::

    torchrun --standalone --nproc_per_node=2 -m coursecnn.distributed --epochs 2

or, without torchrun, ``python -m coursecnn.distributed --nprocs 2 --epochs 2`` (which starts the
processes itself). Each process uses NCCL and its own GPU when CUDA is available, gloo on the
CPU otherwise.
"""

import argparse
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

__all__ = ["setup", "cleanup", "train_ddp", "build_model", "main", "launch", "free_port"]


def setup(backend=None):
    """setup(backend=None) -> (rank, world_size, device)

    Join the process group described by the environment torchrun sets (``RANK``,
    ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``).

    Args:
        backend (str, optional): ``"nccl"`` or ``"gloo"``. Default: ``None`` (NCCL when CUDA is
            available, gloo otherwise).

    Returns:
        this process's rank, the number of processes, and its device (``cuda:LOCAL_RANK`` or CPU).
    """
    missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise RuntimeError(
            f"setup() needs the environment torchrun sets; missing {', '.join(missing)}. Launch with "
            "`torchrun --nproc_per_node=2 -m coursecnn.distributed` or `python -m coursecnn.distributed --nprocs 2`"
        )
    # one GPU per process: with fewer GPUs than local processes every rank falls back to the CPU
    local_procs = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"]))
    use_cuda = torch.cuda.is_available() and backend != "gloo" and local_procs <= torch.cuda.device_count()
    if backend == "nccl" and not use_cuda:
        raise RuntimeError(
            f"backend 'nccl' needs one CUDA device per process: {local_procs} processes, "
            f"{torch.cuda.device_count() if torch.cuda.is_available() else 0} CUDA devices"
        )
    backend = backend or ("nccl" if use_cuda else "gloo")
    if use_cuda:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size(), device


def cleanup():
    """Leave the process group (if one was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def build_model(name):
    """``"lenet5"`` (:class:`coursecnn.models.LeNet5`, 32x32 input) or ``"tiny"`` (a small CNN for tests, 28x28)."""
    if name == "lenet5":
        from coursecnn.models import LeNet5

        return LeNet5()
    if name == "tiny":
        return nn.Sequential(
            nn.Conv2d(1, 4, 5, stride=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)
        )
    raise ValueError(f"model must be 'lenet5' or 'tiny', got {name!r}")


def train_ddp(model, x, y, epochs, *, lr=1e-3, batch_size=64, seed=0,
              device=None):
    """train_ddp(model, x, y, epochs, *, lr=1e-3, batch_size=64, seed=0,
    device=None) -> list of float

    Train ``model`` with Adam in this process as one replica of a DDP group
    (call :func:`setup` first). Each rank sees its
    :class:`~torch.utils.data.distributed.DistributedSampler` shard
    (``1/world_size`` of the examples, reshuffled every epoch with
    ``seed + epoch``); DDP averages the gradients, so all replicas keep
    identical weights.

    Args:
        model (nn.Module): the same architecture on every rank (DDP copies rank
            0's weights to the others when it wraps the model).
        x (Tensor): images :math:`(N, C, H, W)`, the whole training set (every
            rank reads its shard).
        y (Tensor): labels :math:`(N,)`, int64.
        epochs (int): passes over the data.
        lr (float): Adam's learning rate. Default: ``1e-3``
        batch_size (int): examples per step *per process*; a step uses
            ``batch_size * world_size`` examples in all. Default: ``64``
        seed (int): seed of the sampler's shuffling. Default: ``0``
        device (torch.device, optional): this rank's device. Default: the CPU.

    Returns:
        this rank's mean training loss per epoch (each over its own shard).
    """
    device = torch.device("cpu") if device is None else device
    model = model.to(device)
    ids = [device.index] if device.type == "cuda" else None
    ddp = DistributedDataParallel(model, device_ids=ids)
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, shuffle=True, seed=seed)
    loader = DataLoader(data, batch_size=batch_size, sampler=sampler)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        # a different shuffle each epoch, the same on every rank
        sampler.set_epoch(epoch)
        ddp.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(ddp(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP all-reduces (averages) the gradients here
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        losses.append(total / count)
    return losses


def _parser():
    p = argparse.ArgumentParser(prog="python -m coursecnn.distributed", description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="lenet5", choices=["lenet5", "tiny"])
    p.add_argument("--limit", type=int, default=None, help="train on the first N digits only")
    p.add_argument("--backend", default=None, choices=["nccl", "gloo"])
    p.add_argument("--save", default=None, help="save the final weights; '{rank}' in the path saves every rank's")
    p.add_argument("--nprocs", type=int, default=None, help="start this many processes here (without torchrun)")
    return p


def main(argv=None):
    """Entry point of ``torchrun ... -m coursecnn.distributed`` (see the module's docstring)."""
    args = _parser().parse_args(argv)
    if args.nprocs is not None:
        rest = list(argv) if argv is not None else __import__("sys").argv[1:]
        i = rest.index("--nprocs")
        launch(args.nprocs, rest[:i] + rest[i + 2 :])
        return 0
    from coursecnn.data import load_digits
    from coursecnn.train import evaluate

    rank, world_size, device = setup(args.backend)
    try:
        pad_to = 32 if args.model == "lenet5" else None
        x, y = load_digits("train", as_tensor=True, pad_to=pad_to)
        if args.limit is not None:
            x, y = x[: args.limit], y[: args.limit]
        torch.manual_seed(args.seed)  # the same initial weights everywhere (DDP would broadcast them anyway)
        model = build_model(args.model)
        t0 = time.perf_counter()
        losses = train_ddp(model, x, y, args.epochs, lr=args.lr, batch_size=args.batch_size, seed=args.seed, device=device)
        seconds = time.perf_counter() - t0
        if args.save and ("{rank}" in args.save or rank == 0):
            torch.save(model.state_dict(), args.save.format(rank=rank))
        if rank == 0:
            xt, yt = load_digits("test", as_tensor=True, pad_to=pad_to)
            _, acc = evaluate(model, xt, yt, device=device)
            print(
                f"{world_size} processes ({device.type}, {dist.get_backend()}): {args.epochs} epochs in "
                f"{seconds:.1f} s, last loss {losses[-1]:.4f} (rank 0's shard), test accuracy {acc:.4f}",
                flush=True,
            )
        dist.barrier()
    finally:
        cleanup()
    return 0


def free_port():
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned(rank, world_size, port, argv):
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)  # the processes share the cores
    main(argv)


def launch(nprocs, argv=()):
    """launch(nprocs, argv=()) -> None

    Run :func:`main` in ``nprocs`` fresh processes on this machine (what ``torchrun`` does),
    with a free port for the rendezvous; raises if any process fails.

    Example::

        >>> launch(2, ["--model", "tiny", "--limit", "512"])  # doctest: +SKIP
        2 processes (cpu, gloo): 1 epochs in 0.4 s, ...
    """
    import torch.multiprocessing as mp

    if isinstance(nprocs, bool) or not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"nprocs must be a positive int, got {nprocs!r}")
    mp.spawn(_spawned, args=(nprocs, free_port(), list(argv)), nprocs=nprocs, join=True)


if __name__ == "__main__":
    raise SystemExit(main())
