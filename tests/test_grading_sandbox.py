"""Split execution and the sandbox, without nbgrader: what crosses between the grading kernel and
the student's worker, what an answer can and cannot change, and what the worker can reach.
The real nbgrader round trips are in test_grading_attacks_e2e.py and test_nbgrader_e2e.py."""

import socket
from pathlib import Path

import numpy as np
import pytest

from coursecnn import grade, remote, sandbox, split
from coursecnn.course import assignment_notebook, build_course
from coursecnn.editions import find_root

needs_bwrap = pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox: {sandbox.unavailable_reason()}")
SETUP = ["import numpy as np\nfrom coursecnn import ref\nimage = np.arange(36.0).reshape(6, 6)"]


@pytest.fixture()
def ns():
    split._SESSION = None  # a fresh session (workers) per test
    space = {}
    exec(SETUP[0], space)
    yield space
    if split._SESSION is not None:
        for worker in split._SESSION.workers.values():
            worker.stop()
    split._SESSION = None


def run(ns, label, source, expected=(), plain=False, timeout=20, sandboxed=None):
    sandboxed = sandbox.available() if sandboxed is None else sandboxed
    setup = SETUP if split._SESSION is None else []
    split.answer(label, source, setup=setup, expected=list(expected), plain=plain, timeout=timeout,
                 sandboxed=sandboxed, ns=ns)


def test_values_cross_as_data_and_refuse_object_arrays():
    a, b = socket.socketpair()
    ch = remote.Channel(a, trusted=True)
    values = [None, True, 3, 2 ** 80, 1.5, float("nan"), 2 - 1j, "s", b"\x00", (1, [2, {"k": 3}]),
              np.arange(6.0).reshape(2, 3), np.float32(2.5), np.array(True)]
    blobs = []
    tree = ch.encode(values, blobs)
    back = ch.decode(tree, blobs)
    for got, want in zip(back, values):
        if isinstance(want, np.ndarray):
            assert got.dtype == want.dtype and np.array_equal(got, want)
        elif want != want:  # nan
            assert got != got
        else:
            assert got == want and type(got) is type(want)
    with pytest.raises(remote.WorkerGone, match="refused dtype"):
        ch.decode({"t": "nd", "dtype": "|O", "shape": [1], "b": 0}, [b"\x00" * 8])
    a.close(), b.close()


def test_answers_run_in_the_worker_and_cannot_touch_the_checks(ns):
    import coursecnn.grading as grading

    run(ns, "ex1", "import numpy as np, coursecnn.grading as g\n"
        "def double(x):\n    return 2 * np.asarray(x)\n"
        "g.check_close = lambda *a, **k: None\nnp.allclose = lambda *a, **k: True\n"
        "ref = None\nimage = np.zeros(3)\n", expected=["double"])
    assert np.array_equal(ns["double"](ns["image"]), 2 * ns["image"])
    assert isinstance(ns["double"], split.Answer)
    # the patches stayed in the worker, and the instructor's names were not replaced
    assert grading.check_close.__module__ == "coursecnn.grading"
    assert not np.allclose([0.0], [1.0])
    assert ns["ref"] is not None and ns["image"].shape == (6, 6)
    with pytest.raises(AssertionError):
        grading.check_close(ns["double"](np.ones(2)), [0.0, 0.0])


def test_errors_keep_their_type_and_callbacks_run_in_the_kernel(ns):
    run(ns, "ex1", "def f(cb, x):\n    return cb(x) + 1\ndef g():\n    raise ValueError('bad input')\n",
        expected=["f", "g"])
    assert ns["f"](lambda v: v * 10, 2) == 21
    with pytest.raises(ValueError, match="bad input"):
        ns["g"]()


def test_an_endless_loop_costs_one_timeout(ns):
    import time

    run(ns, "ex1", "def loop():\n    while True:\n        pass\n", expected=["loop"], timeout=4)
    run(ns, "ex2", "def fine():\n    return 7\n", expected=["fine"], timeout=4)
    start = time.monotonic()
    with pytest.raises(remote.GradingTimeout, match="endless loop"):
        ns["loop"]()
    split._SESSION._new_cell()
    with pytest.raises(remote.GradingTimeout):
        ns["loop"]()  # at once: not run again
    assert ns["fine"]() == 7  # the other answer, replayed in a fresh worker
    assert time.monotonic() - start < 4 + 3


@needs_bwrap
def test_forbidden_packages_are_missing_in_a_plain_exercise(ns):
    run(ns, "ex1", "def f(x):\n    from coursecnn import ref\n    return ref.relu(x)\n", expected=["f"], plain=True)
    with pytest.raises(ImportError, match="may not be used"):
        ns["f"](np.ones(2))
    run(ns, "ex2", "def t():\n    import torch\n    return torch.ones(2)\n", expected=["t"], plain=True)
    with pytest.raises(ImportError):
        ns["t"]()


@needs_bwrap
def test_the_sandbox_hides_the_disk_and_the_network(ns, tmp_path):
    secret = find_root() / "book" / "chapters"
    run(ns, "ex1", f"""
import os, socket
from pathlib import Path
import coursecnn
def probe():
    out = {{}}
    out["repo"] = Path(coursecnn.__file__).parents[2].joinpath("book").exists()
    out["chapters"] = os.path.exists({str(secret)!r})
    out["tmp_path"] = os.path.exists({str(tmp_path)!r})
    try:
        open("/work/escape.txt", "w")
        out["write_outside"] = True
    except OSError:
        out["write_outside"] = False
    open("/tmp/scratch.txt", "w").write("ok")
    out["scratch"] = open("/tmp/scratch.txt").read() == "ok"
    try:
        socket.create_connection(("1.1.1.1", 80), timeout=2)
        out["network"] = True
    except OSError:
        out["network"] = False
    out["uid"] = os.getuid()
    return out
""", expected=["probe"])
    got = ns["probe"]()
    assert not Path("/work/escape.txt").exists()
    assert got == {"repo": False, "chapters": False, "tmp_path": False, "write_outside": False,
                   "scratch": True, "network": False, "uid": 65534}


def test_grading_refuses_to_start_without_a_sandbox(tmp_path, monkeypatch):
    build_course(tmp_path, chapters=["pooling"], timeout=30)
    (tmp_path / "submitted" / "alice" / "pooling").mkdir(parents=True)
    monkeypatch.setattr(sandbox, "_probe", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(grade.GradeError, match="Refusing to run student code without a sandbox.*--unsandboxed"):
        grade.grade_assignment(tmp_path, "pooling")


def test_assignments_keep_the_exercises_and_only_the_setup_they_need():
    import json

    nb = json.loads((find_root() / "book" / "chapters" / "architectures.ipynb").read_text())
    cut = assignment_notebook(nb)
    text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cut["cells"])
    graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader")]
    assert [c for c in cut["cells"] if c["metadata"].get("nbgrader")] == graded
    assert "load_digit_split" in text  # the data exercise 3 trains on
    assert "LeNet5()" not in text and "plt.show()" not in text  # the chapter's own training and plots
    assert len(cut["cells"]) < len(nb["cells"]) / 2


def test_in_place_changes_to_array_arguments_come_back(ns):
    run(ns, "ex1", "def scale(w):\n    w *= 2\n    return w.sum()\ndef pure(w):\n    return (2 * w).sum()\n",
        expected=["scale", "pure"])
    w = np.array([1.0, 2.0])
    assert ns["pure"](w) == 6.0 and w.tolist() == [1.0, 2.0]
    assert ns["scale"](w) == 6.0 and w.tolist() == [2.0, 4.0]  # as if it had run here


def test_unsandboxed_workers_still_keep_the_checks_apart(ns):
    import coursecnn.grading as grading

    run(ns, "ex1", "import coursecnn.grading as g\ng.check_close = None\ndef f():\n    return 1\n",
        expected=["f"], sandboxed=False)
    assert ns["f"]() == 1 and callable(grading.check_close)
    run(ns, "ex2", "def h():\n    import torch\n", expected=["h"], plain=True, sandboxed=False)
    with pytest.raises(ImportError, match="may not be used in this exercise"):
        ns["h"]()


def test_a_student_model_arrives_as_a_trainable_module_and_shares_the_seed(ns):
    import torch

    run(ns, "ex1", "import torch\nfrom torch import nn\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(3, 1)\n    def forward(self, x):\n        return 2.0 * self.fc(x)\n"
        "def make():\n    return Net()\n", expected=["Net", "make"])
    torch.manual_seed(0)
    model = ns["make"]()
    torch.manual_seed(0)
    assert torch.equal(next(ns["make"]().parameters()), next(model.parameters()))  # same seed, same init
    seen = []
    model.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))  # hooks work
    x = torch.ones(4, 3)
    before = model(x).detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    (model(x) - 10).pow(2).mean().backward()
    opt.step()
    assert seen == [(4, 1), (4, 1)] and not torch.equal(model(x).detach(), before)  # it trains, here
