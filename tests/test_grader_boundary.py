"""The grading boundary, without nbgrader: only data crosses between the grading kernel and the
student's worker, only declared names are bound, the worker is boxed (disk, network, imports,
memory, processes, CPU) and what an instructor should see is flagged. The real nbgrader round
trips are in test_grader_attacks_e2e.py and test_nbgrader_e2e.py."""

import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest

from coursecnn.course import assignment_notebook, build_course
from coursecnn.editions import find_root
from coursecnn.grader import batch, box, flags, kernel, wire
from coursecnn.grader.rules import declared_names

needs_bwrap = pytest.mark.skipif(not box.available(), reason=f"no sandbox: {box.unavailable_reason()}")
SETUP = ["import numpy as np\nfrom coursecnn import ref\nimage = np.arange(36.0).reshape(6, 6)"]


@pytest.fixture()
def ns(tmp_path):
    kernel._SESSION = None  # a fresh session (workers) per test
    space = {"__log__": str(tmp_path / "flags.jsonl")}
    exec(SETUP[0], space)
    yield space
    if kernel._SESSION is not None:
        for worker in kernel._SESSION.workers.values():
            worker.stop()
    kernel._SESSION = None


def run(ns, label, source, declared=(), limits=None, timeout=20, sandboxed=None):
    sandboxed = box.available() if sandboxed is None else sandboxed
    setup = SETUP if kernel._SESSION is None else []
    kernel.answer(label, source, setup=setup, declared=list(declared), limits=limits, timeout=timeout,
                  sandboxed=sandboxed, ns=ns, log=ns["__log__"])


def logged(ns):
    return [(e["kind"], e["cell"]) for e in flags.read(ns["__log__"])]


def test_only_plain_data_crosses_the_wire():
    import torch

    blobs = []
    value = {"a": [1, 2.5, 3j, None, True, "s", b"b"], (1, 2): np.arange(6).reshape(2, 3),
             "t": torch.ones(2), "n": np.float32(1.5)}
    back = wire.decode(wire.encode(value, blobs), blobs)
    assert back["a"] == value["a"] and np.array_equal(back[(1, 2)], value[(1, 2)])
    assert torch.equal(back["t"], torch.ones(2)) and back["n"] == np.float32(1.5)
    for bad in (lambda: 1, (i for i in range(2)), np, object(), np.array([object()]), {1, 2},
                np.array(["a"]), [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]):
        with pytest.raises(wire.NotData):
            wire.encode(bad, [])
    for tree in ({"t": "ref", "id": 1}, {"t": "back", "id": 1}, {"t": "script", "b": 0},
                 {"t": "nd", "dtype": "|O", "shape": [1], "b": 0}, [1, 2]):
        with pytest.raises(wire.WireBroken):
            wire.decode(tree, [b"\0" * 8])


def test_only_the_declared_names_are_bound_never_a_builtin(ns):
    run(ns, "ex1", "def f(x):\n    return x + 1\ndef helper():\n    return 0\n"
        "def zip(*a):\n    return []\nrange = lambda *a: []\ntuple = list\nimage = None\n",
        declared=["f", "zip"])
    assert set(ns) >= {"f"} and "helper" not in ns and "zip" not in ns and "range" not in ns
    assert ns["image"] is not None and ns["f"](1) == 2  # the instructor's image, the student's f
    assert ("shadowed builtin", "ex1") in logged(ns)


def test_arguments_go_by_value_and_a_change_in_place_fails_the_check(ns):
    run(ns, "ex1", "def scale(w):\n    w *= 2\n    return w.sum()\ndef pure(w):\n    return (2 * w).sum()\n",
        declared=["scale", "pure"])
    w = np.array([1.0, 2.0])
    assert ns["pure"](w) == 6.0 and w.tolist() == [1.0, 2.0]
    with pytest.raises(AssertionError, match="scale changed its input in place .argument 1."):
        ns["scale"](w)
    assert w.tolist() == [1.0, 2.0]  # the kernel's own copy: the expected values come from it


def test_no_reference_crosses_either_way(ns):
    run(ns, "ex1", "def gen():\n    return (i for i in [1, 2])\ndef call(fn):\n    return fn(1)\n"
        "def ident(x):\n    return x\n", declared=["gen", "call", "ident"])
    with pytest.raises(TypeError, match="cannot be graded"):
        ns["gen"]()
    with pytest.raises(TypeError, match="a function cannot be graded"):
        ns["call"](lambda x: x)
    with pytest.raises(TypeError, match="cannot be graded"):
        ns["ident"](iter([1]))
    with pytest.raises(AttributeError, match="only calls reach it"):
        ns["gen"].__globals__
    with pytest.raises(AttributeError):
        ns["gen"].gi_frame
    with pytest.raises(TypeError, match="table: a generator cannot be graded"):
        run(ns, "ex2", "table = (i for i in [1])\nsizes = [1, 2]\n", declared=["table", "sizes"])
    assert ns["sizes"] == [1, 2] and "table" not in ns


def test_errors_keep_their_builtin_type_and_others_become_student_errors(ns):
    run(ns, "ex1", "def f():\n    raise ValueError('bad shape')\nclass Mine(Exception):\n    pass\n"
        "def g():\n    raise Mine('mine')\n", declared=["f", "g"])
    with pytest.raises(ValueError, match="bad shape"):
        ns["f"]()
    with pytest.raises(kernel.StudentError, match="Mine: mine"):
        ns["g"]()


def test_an_endless_loop_costs_one_timeout(ns):
    import time

    run(ns, "ex1", "def fast():\n    return 1\n", declared=["fast"])
    run(ns, "ex2", "def slow():\n    while True:\n        pass\n", declared=["slow"], timeout=4)
    start = time.monotonic()
    with pytest.raises(kernel.GradingTimeout, match="endless loop"):
        ns["slow"]()
    assert time.monotonic() - start < 4
    with pytest.raises(kernel.GradingTimeout):
        ns["slow"]()  # at once: it is not run again
    kernel._SESSION._new_cell()  # the next test cell
    assert ns["fast"]() == 1  # a fresh worker replays the other answers
    assert ("limit", "ex2") in logged(ns)


def test_cpu_memory_and_process_limits_hold_and_are_flagged(ns):
    run(ns, "ex1", "import os, subprocess, resource\n"
        "def fork():\n    return os.fork()\n"
        "def spawn():\n    return subprocess.run(['true']).returncode\n"
        "def lift():\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n"
        "def hog():\n    import numpy as np\n    return float(np.ones(2**31).sum())\n",
        declared=["fork", "spawn", "lift", "hog"], limits={"memory": 2 ** 30})
    with pytest.raises(PermissionError):
        ns["fork"]()
    with pytest.raises(PermissionError):
        ns["spawn"]()
    with pytest.raises((ValueError, PermissionError)):
        ns["lift"]()
    with pytest.raises(MemoryError):
        ns["hog"]()
    run(ns, "ex2", "def spin():\n    while True:\n        pass\n", declared=["spin"], limits={"cpu": 1.0}, timeout=30)
    with pytest.raises(kernel.GradingTimeout, match="CPU time"):
        ns["spin"]()
    assert {("limit", "ex1"), ("limit", "ex2")} <= set(logged(ns))


@needs_bwrap
def test_a_numpy_only_exercise_sees_numpy_and_the_standard_library_only(ns):
    import sysconfig

    import torch

    torch_dir = str(Path(torch.__file__).parent)
    sites = sorted({sysconfig.get_paths(vars={"base": p, "platbase": p})["purelib"]
                    for p in (os.sys.prefix, os.sys.base_prefix)})
    run(ns, "ex1", f"""
import os, sys
def probe():
    sys.meta_path.pop(0)  # the import hook gone, the files are still not there
    out = {{"torch_files": os.path.exists({torch_dir!r}),
            "site_packages": sorted(n for s in {sites!r} if os.path.isdir(s) for n in os.listdir(s))}}
    for name in ("scipy", "coursecnn", "torch", "pytest"):
        try:
            __import__(name)
            out[name] = True
        except ImportError:
            out[name] = False
    import numpy
    out["numpy"] = float(numpy.ones(3).sum())
    return out
def correlate():
    import scipy.signal
""", declared=["probe", "correlate"], limits={"plain": True})
    with pytest.raises(ImportError, match="may not be used in this exercise"):
        ns["correlate"]()
    got = ns["probe"]()
    assert set(got["site_packages"]) <= {"numpy", "numpy.libs"}, got["site_packages"]
    assert {k: v for k, v in got.items() if k != "site_packages"} == {
        "torch_files": False, "scipy": False, "coursecnn": False, "torch": False, "pytest": False, "numpy": 3.0}
    assert ("forbidden import", "ex1") in logged(ns)


def test_another_exercises_cell_cannot_answer_a_numpy_only_one(ns):
    # Padding and stride: exercise 2 is unrestricted; exercise 3 is NumPy only. Exercise 3's
    # functions written in exercise 2's cell (with coursecnn.arith) are not exercise 3's answer.
    run(ns, "ex2", "from coursecnn import arith\ndef same(k):\n    return (k - 1) // 2\n"
        "def mults(c, k, n):\n    return arith.conv_mults(c, c, k, n)\n", declared=["same"])
    assert "mults" not in ns
    run(ns, "ex3", "def mults(c, k, n):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n",
        declared=["mults"], limits={"plain": True})
    with pytest.raises(NotImplementedError):
        ns["mults"](1, 3, 4)


@needs_bwrap
def test_the_sandbox_hides_the_disk_the_data_and_the_network(ns, tmp_path):
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
    out["digits"] = os.path.getsize(Path(coursecnn.__file__).parent / "data" / "mnist_digits.npz")
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
""", declared=["probe"])
    got = ns["probe"]()
    assert not Path("/work/escape.txt").exists()
    assert got == {"repo": False, "chapters": False, "tmp_path": False, "digits": 0, "write_outside": False,
                   "scratch": True, "network": False, "uid": 65534}


def test_a_student_model_is_trained_in_the_worker_and_only_scores_come_back(ns):
    import torch

    from coursecnn.grader.tasks import fit_and_predict

    run(ns, "ex1", "import torch\nfrom torch import nn\n"
        "def make():\n    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))\n", declared=["make"])
    x = torch.cat([torch.zeros(20, 1, 2, 2), torch.ones(20, 1, 2, 2)])
    y = torch.cat([torch.zeros(20), torch.ones(20)]).long()
    n, scores = fit_and_predict(ns["make"], x, y, x[[0, -1]], epochs=30, lr=0.05, batch_size=8, seed=0)
    assert n == 10 and isinstance(scores, np.ndarray) and scores.shape == (2, 2)
    assert scores[0].argmax() == 0 and scores[1].argmax() == 1
    # The same routine, run here on a function of our own, gives the same numbers.
    def make():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    n_here, here = fit_and_predict(make, x, y, x[[0, -1]], epochs=30, lr=0.05, batch_size=8, seed=0)
    assert n_here == n and np.allclose(here, scores, atol=1e-5)


def test_the_worker_runs_only_the_setup_an_answer_needs():
    from coursecnn.grader.kernel import needed_setup

    setup = ["import numpy as np\nimport torch\nfrom torch import nn\ntorch.manual_seed(0)\n%matplotlib inline\n"
             "from coursecnn import ref\nimage = np.ones(3)\nplt.plot(image)\n", "x = load()\nK = np.zeros(2)"]
    assert needed_setup(setup, "def f(a):\n    return np.asarray(a) + K\n") == ["import numpy as np", "K = np.zeros(2)"]
    assert needed_setup(setup, "def g():\n    return nn.Linear(2, 2)\n") == ["from torch import nn"]
    assert needed_setup(setup, "def h(a):\n    return 1\n") == []


def test_declared_names_come_from_the_stub_not_the_solution():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    y = helper(x)\n    return y\n    ### END SOLUTION\n"
    assert declared_names(src) == ["f"]
    src = "### BEGIN SOLUTION\n_h = 1\ndef g():\n    return _h\n### END SOLUTION\ndef k():\n    pass\nsum = 0\n"
    assert declared_names(src) == ["k"]  # never a builtin


def test_grading_refuses_to_start_without_a_sandbox(tmp_path, monkeypatch):
    build_course(tmp_path, chapters=["pooling"], timeout=30)
    (tmp_path / "release" / "pooling").mkdir(parents=True)
    (tmp_path / "submitted" / "alice" / "pooling").mkdir(parents=True)
    monkeypatch.setattr(box, "_probe", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(batch.GradeError, match="Refusing to run student code without a sandbox.*--unsandboxed"):
        batch.grade_assignment(tmp_path, "pooling")


def test_a_shard_is_read_as_k_of_n_or_refused_by_name():
    # Which students a shard grades is checked end to end (test_nbgrader_e2e: two shards merged).
    assert batch.parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "a/b", "3"):
        with pytest.raises(batch.GradeError, match="--shard"):
            batch.parse_shard(bad)


def test_assignments_keep_the_exercises_and_only_the_setup_they_need():
    nb = json.loads((find_root() / "book" / "chapters" / "architectures.ipynb").read_text())
    cut = assignment_notebook(nb)
    text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cut["cells"])
    graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader")]
    assert [c for c in cut["cells"] if c["metadata"].get("nbgrader")] == graded
    assert "load_digit_split" in text  # the data exercise 3 trains on
    assert "LeNet5()" not in text and "plt.show()" not in text  # the chapter's own training and plots
    assert len(cut["cells"]) < len(nb["cells"]) / 2


def test_unsandboxed_workers_still_keep_the_checks_apart(ns):
    import coursecnn.grading as grading

    run(ns, "ex1", "import coursecnn.grading as g\ng.check_close = None\ndef f():\n    return 1\n",
        declared=["f"], sandboxed=False)
    assert ns["f"]() == 1 and callable(grading.check_close)
    run(ns, "ex2", "def h():\n    import torch\n", declared=["h"], limits={"plain": True}, sandboxed=False)
    with pytest.raises(ImportError, match="may not be used in this exercise"):
        ns["h"]()


def test_the_small_lenet_exercise_tells_a_convnet_from_a_linear_model():
    # Architectures exercise 3's bars (90% of test digits, 65% of them moved by up to 2 pixels,
    # 3,000 training digits, 4 epochs): a linear classifier must fail the second.
    import torch
    from torch import nn

    from coursecnn.data import load_digit_split
    from coursecnn.grader.tasks import fit_and_predict

    x, y, xt, yt = load_digit_split(pad_to=32, as_tensor=True)
    rng = np.random.default_rng(0)
    plain = xt[:1000].numpy()
    moved = np.stack([np.roll(im, tuple(m), axis=(1, 2)) for im, m in zip(plain, rng.integers(-2, 3, (1000, 2)))])
    torch.set_num_threads(1)
    _, scores = fit_and_predict(lambda: nn.Sequential(nn.Flatten(), nn.Linear(1024, 10)), x[:3000], y[:3000],
                                np.concatenate([plain, moved]), epochs=4, seed=0)
    hits = scores.argmax(1) == np.concatenate([yt[:1000].numpy()] * 2)
    assert hits[1000:].mean() < 0.65


def test_the_graded_notebook_is_the_release_with_only_the_answers_from_the_submission(tmp_path):
    import nbformat

    from coursecnn.grader.preprocessors import RebuildFromRelease

    def cell(kind, source, cid, **nbg):
        c = {"cell_type": kind, "id": cid, "metadata": {"nbgrader": nbg} if nbg else {}, "source": source}
        if kind == "code":
            c.update(outputs=[], execution_count=None)
        return c

    release = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("markdown", "# Title", "t"),
        cell("code", "import numpy as np", "setup"),
        cell("code", "def f(x):\n    raise NotImplementedError()", "ans",
             solution=True, grade=False, grade_id="ex1-solution"),
        cell("code", "assert f(1) == 2", "tests", grade=True, solution=False, grade_id="ex1-tests",
             locked=True, points=1),
    ]}
    (tmp_path / "release" / "ch").mkdir(parents=True)
    (tmp_path / "release" / "ch" / "ch.ipynb").write_text(json.dumps(release))
    sub = json.loads(json.dumps(release))
    sub["cells"][1]["source"] = "import numpy as np\nnp.allclose = lambda *a: True"    # edits the setup
    sub["cells"][2]["source"] = "def f(x):\n    return x + 1"                       # the answer
    sub["cells"][2]["id"] = "renamed"                                               # a changed id
    sub["cells"][3]["source"] = "pass"                                              # empties the test
    sub["cells"].insert(2, cell("code", "get_ipython().input_transformers_post.clear()", "mine"))
    nb = nbformat.from_dict(sub)
    resources = {"nbgrader": {"assignment": "ch", "notebook": "ch", "student": "eve",
                              "db_url": f"sqlite:///{tmp_path / 'gradebook.db'}"}}
    out, _ = RebuildFromRelease().preprocess(nb, resources)
    sources = [c.source for c in out.cells]
    assert "def f(x):\n    return x + 1" in sources                         # only the answer is theirs
    assert "import numpy as np" in sources and "assert f(1) == 2" in sources  # the release's cells
    assert not any("input_transformers_post" in s or "allclose" in s for s in sources if not s.startswith("**"))
    assert [c.id for c in out.cells if c.id != "coursecnn-grading-note"] == ["t", "setup", "ans", "tests"]
    note = next(c.source for c in out.cells if c.id == "coursecnn-grading-note")
    assert "input_transformers_post" in note and "np.allclose" not in note and "import numpy as np" in note
    kinds = [(e["kind"], e["cell"]) for e in flags.read(tmp_path / "flags" / "ch" / "eve.jsonl")]
    assert ("dropped cell", "") in kinds and ("changed cell id", "ex1-solution") in kinds
    assert ("changed cell", "setup") in kinds
