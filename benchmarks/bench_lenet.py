"""Train LeNet-5 on the bundled digits: test accuracy and wall time.

The recipe: 32x32 padding, Adam (lr 3e-3, cosine decay to 0), batch 64, 8 epochs, seed 0.
Targets: at least 98 % test accuracy; at most 60 s on a 2-core CPU, 5 s on a GPU.
Writes ``benchmarks/results/lenet_<device>.json`` and ``.md``.

    python benchmarks/bench_lenet.py [--device cpu|cuda|mps] [--epochs 8] [--threads N]

The CPU time is reported beside the wall time: on a shared machine the wall time also counts
the time other programs held the cores. One CPU thread is the default: LeNet-5's layers are too
small to gain from two, and on a busy 2-core machine two threads waiting on each other made an
epoch 15 times slower (measured: 2.7 s with one thread, 52 s with two).
"""

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import coursecnn
from coursecnn.data import load_digit_split
from coursecnn.models import LeNet5
from coursecnn.train import train

RESULTS = Path(__file__).resolve().parent / "results"
RECIPE = {"pad_to": 32, "optimizer": "adam", "lr": 3e-3, "schedule": "cosine", "batch_size": 64, "epochs": 8, "seed": 0}
TARGET_ACC = 0.98
TARGET_SECONDS = {"cpu": 60.0, "cuda": 5.0, "mps": 10.0}


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    return device.type


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="default: coursecnn.device()")
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1, see above; 0: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = coursecnn.device(args.device)
    recipe = {**RECIPE, "epochs": args.epochs}

    data = load_digit_split(pad_to=recipe["pad_to"], as_tensor=True)
    torch.manual_seed(recipe["seed"])
    model = LeNet5()
    if device.type == "cuda":  # warm up CUDA (context, kernels) outside the timed run
        torch.backends.cudnn.benchmark = False
        LeNet5().to(device)(data[0][:64].to(device)).sum().item()
        torch.cuda.synchronize()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    history = train(
        model,
        data,
        recipe["epochs"],
        lr=recipe["lr"],
        optimizer=recipe["optimizer"],
        batch_size=recipe["batch_size"],
        schedule=recipe["schedule"],
        seed=recipe["seed"],
        device=device,
        progress=False,
    )
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    acc = history.test_acc[-1]
    target_s = TARGET_SECONDS.get(device.type)
    result = {
        "benchmark": "LeNet-5 on the bundled digits (8,000 train / 2,000 test)",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": device.type,
        "device_name": device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "recipe": recipe,
        "test_accuracy": acc,
        "test_accuracy_per_epoch": history.test_acc,
        "train_loss_per_epoch": history.train_loss,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "epoch_seconds": [round(t, 2) for t in history.time],
        "load_average_at_start": round(load, 2) if load is not None else None,
        "targets": {"test_accuracy": TARGET_ACC, "wall_seconds": target_s},
        "accuracy_target_met": acc >= TARGET_ACC,
        "time_target_met": target_s is not None and wall <= target_s,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"lenet_{device.type}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# LeNet-5 on the bundled digits ({device.type})",
        "",
        f"{result['date']}, {result['device_name']}, torch {result['torch']}, Python {result['python']}.",
        "",
        "Recipe: " + ", ".join(f"{k}={v}" for k, v in recipe.items()) + ".",
        "",
        "| epoch | train loss | test accuracy | seconds |",
        "|---:|---:|---:|---:|",
        *[
            f"| {i + 1} | {loss:.4f} | {a:.2%} | {t:.1f} |"
            for i, (loss, a, t) in enumerate(zip(history.train_loss, history.test_acc, history.time))
        ],
        "",
        f"**Test accuracy {acc:.2%}** (target {TARGET_ACC:.0%}: {'met' if result['accuracy_target_met'] else 'MISSED'}).",
        f"**Wall time {wall:.1f} s** (target {target_s} s: {'met' if result['time_target_met'] else 'MISSED'}), "
        f"CPU time {cpu:.1f} s, load average {result['load_average_at_start']} at the start.",
        "",
    ]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if result["accuracy_target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
