"""coursecnn.torch convolutions against torch.nn.functional, coursecnn.ref and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import coursecnn.ref as ref
import coursecnn.torch as ct
from coursecnn.ref import numerical_gradient, relative_error

D = torch.float64


def close(a, b, tol=1e-10):
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


@st.composite
def conv_cases(draw, nd=2):
    groups = draw(st.integers(1, 3))
    c, k = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    # the smallest input the dilated kernel fits in once padded, plus a few pixels
    size = tuple(
        max(1, d * (f - 1) + 1 - 2 * p) + draw(st.integers(0, 4)) for f, p, d in zip(kernel, padding, dilation)
    )
    n = draw(st.integers(1, 2))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(n, c, *size, dtype=D, generator=g)
    w = torch.randn(k, c // groups, *kernel, dtype=D, generator=g)
    b = torch.randn(k, dtype=D, generator=g) if draw(st.booleans()) else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def grads(f, tensors, seed=0):
    """Forward, then backward of a random linear function of the output."""
    leaves = [t.clone().requires_grad_() if t is not None else None for t in tensors]
    y = f(*leaves)
    dy = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(seed))
    y.backward(dy)
    return y.detach(), [t.grad if t is not None else None for t in leaves]


def assert_same(mine, theirs):
    (ya, ga), (yb, gb) = mine, theirs
    close(ya, yb)
    for a, b in zip(ga, gb):
        assert (a is None) == (b is None)
        if a is not None:
            close(a, b)


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch_forward_and_backward(case):
    x, w, b, kw = case
    assert_same(
        grads(lambda x, w, b: ct.conv2d(x, w, b, **kw), (x, w, b)),
        grads(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b)),
    )


@settings(max_examples=25, deadline=None)
@given(conv_cases(nd=1))
def test_conv1d_matches_torch_forward_and_backward(case):
    x, w, b, kw = case
    kw = {k: v[0] if isinstance(v, tuple) else v for k, v in kw.items()}
    assert_same(
        grads(lambda x, w, b: ct.conv1d(x, w, b, **kw), (x, w, b)),
        grads(lambda x, w, b: F.conv1d(x, w, b, **kw), (x, w, b)),
    )


@st.composite
def transpose_cases(draw):
    groups = draw(st.integers(1, 2))
    c_in, c_out_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    f = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    # padding may crop at most all but one row of the uncropped output
    full = [(n - 1) * si + di * (fi - 1) + 1 for n, si, di, fi in zip(size, s, d, f)]
    p = tuple(draw(st.integers(0, min(2, (n + o - 1) // 2))) for n, o in zip(full, op))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(2, c_in, *size, dtype=D, generator=g)
    w = torch.randn(c_in, c_out_g, *f, dtype=D, generator=g)
    b = torch.randn(c_out_g * groups, dtype=D, generator=g) if draw(st.booleans()) else None
    return x, w, b, dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d)


@settings(max_examples=40, deadline=None)
@given(transpose_cases())
def test_conv_transpose2d_matches_torch(case):
    x, w, b, kw = case
    assert_same(
        grads(lambda x, w, b: ct.conv_transpose2d(x, w, b, **kw), (x, w, b)),
        grads(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (x, w, b)),
    )


@settings(max_examples=20, deadline=None)
@given(conv_cases())
def test_conv2d_matches_ref(case):
    x, w, b, kw = case
    y, (dx, dw, db) = grads(lambda x, w, b: ct.conv2d(x, w, b, **kw), (x, w, b))
    close(y, torch.from_numpy(ref.conv2d(x.numpy(), w.numpy(), None if b is None else b.numpy(), **kw)))
    dy = torch.randn(y.shape, dtype=D, generator=torch.Generator().manual_seed(0))
    rdx, rdw, rdb = ref.conv2d_backward(dy.numpy(), x.numpy(), w.numpy(), **kw)
    close(dx, torch.from_numpy(rdx))
    close(dw, torch.from_numpy(rdw))
    if b is not None:
        close(db, torch.from_numpy(rdb))


@settings(max_examples=20, deadline=None)
@given(transpose_cases())
def test_conv_transpose2d_matches_ref(case):
    x, w, b, kw = case
    mine = ct.conv_transpose2d(x, w, b, **kw)
    theirs = ref.conv_transpose2d(x.numpy(), w.numpy(), None if b is None else b.numpy(), **kw)
    close(mine, torch.from_numpy(theirs))


@pytest.mark.parametrize("mode", ["replicate", "reflect", "circular"])
def test_padding_modes_match_torch_and_ref(mode):
    g = torch.Generator().manual_seed(6)
    x, w, b = torch.randn(2, 2, 5, 4, dtype=D, generator=g), torch.randn(3, 2, 3, 2, dtype=D, generator=g), torch.randn(3, dtype=D, generator=g)
    kw = dict(stride=(1, 2), padding=(2, 1), dilation=(1, 2))
    assert_same(
        grads(lambda x, w, b: ct.conv2d(x, w, b, padding_mode=mode, **kw), (x, w, b)),
        grads(lambda x, w, b: F.conv2d(F.pad(x, (1, 1, 2, 2), mode=mode), w, b, stride=(1, 2), dilation=(1, 2)), (x, w, b)),
    )
    close(ct.conv2d(x, w, b, padding_mode=mode, **kw), torch.from_numpy(ref.conv2d(x.numpy(), w.numpy(), b.numpy(), padding_mode=mode, **kw)))
    x1, w1 = x[:, :, 0], w[:, :, 0]
    assert_same(
        grads(lambda x, w: ct.conv1d(x, w, padding=2, padding_mode=mode), (x1, w1)),
        grads(lambda x, w: F.conv1d(F.pad(x, (2, 2), mode=mode), w), (x1, w1)),
    )


def test_conv2d_backward_by_finite_differences_at_every_index():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 5, 6, dtype=D, generator=g)
    w = torch.randn(4, 2, 3, 2, dtype=D, generator=g)
    b = torch.randn(4, dtype=D, generator=g)
    kw = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    y, (dx, dw, db) = grads(lambda x, w, b: ct.conv2d(x, w, b, **kw), (x, w, b))
    dy = torch.randn(y.shape, dtype=D, generator=torch.Generator().manual_seed(0))

    def loss(**over):
        args = {"x": x, "w": w, "b": b, **{k: torch.from_numpy(v) for k, v in over.items()}}
        return float((ct.conv2d(args["x"], args["w"], args["b"], **kw) * dy).sum())

    assert relative_error(dx.numpy(), numerical_gradient(lambda a: loss(x=a), x.numpy())) < 1e-7
    assert relative_error(dw.numpy(), numerical_gradient(lambda a: loss(w=a), w.numpy())) < 1e-7
    assert relative_error(db.numpy(), numerical_gradient(lambda a: loss(b=a), b.numpy())) < 1e-7


def fd_relative_errors(f, tensors, seed=0):
    """Relative errors of the gradients that f's backward gives (for the loss sum(f(...) * dy), dy
    as in grads) against centered differences at every index of every argument."""
    y, gs = grads(f, tensors, seed)
    dy = torch.randn(y.shape, dtype=D, generator=torch.Generator().manual_seed(seed))

    def loss(i, a):
        args = list(tensors)
        args[i] = torch.from_numpy(a)
        with torch.no_grad():
            return float(((f(*args) - y) * dy).sum())

    return [relative_error(g.numpy(), numerical_gradient(lambda a, i=i: loss(i, a), t.numpy())) for i, (t, g) in enumerate(zip(tensors, gs))]


@pytest.mark.parametrize(
    "shapes, kw",
    [
        (((2, 2, 7), (3, 2, 3)), dict(stride=2, padding=1, dilation=2)),
        (((2, 4, 8), (4, 2, 2)), dict(stride=3, padding=2, groups=2)),
    ],
    ids=["dilated", "grouped"],
)
def test_conv1d_by_finite_differences_at_every_index(shapes, kw):
    g = torch.Generator().manual_seed(8)
    x, w = (torch.randn(*shape, dtype=D, generator=g) for shape in shapes)
    b = torch.randn(w.shape[0], dtype=D, generator=g)
    f = lambda x, w, b: ct.conv1d(x, w, b, **kw)  # noqa: E731
    close(f(x, w, b), F.conv1d(x, w, b, **kw), tol=1e-12)
    errors = fd_relative_errors(f, (x, w, b))
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize(
    "shapes, kw",
    [
        (((1, 2, 3, 4), (2, 3, 2, 3)), dict(stride=(2, 3), padding=1, output_padding=(1, 0))),
        (((2, 4, 3, 3), (4, 1, 3, 2)), dict(stride=2, padding=(1, 0), output_padding=1, groups=2, dilation=(2, 1))),
    ],
    ids=["strided", "grouped-dilated"],
)
def test_conv_transpose2d_by_finite_differences_at_every_index(shapes, kw):
    g = torch.Generator().manual_seed(9)
    x, w = (torch.randn(*shape, dtype=D, generator=g) for shape in shapes)
    b = torch.randn(w.shape[1] * kw.get("groups", 1), dtype=D, generator=g)
    f = lambda x, w, b: ct.conv_transpose2d(x, w, b, **kw)  # noqa: E731
    close(f(x, w, b), F.conv_transpose2d(x, w, b, **kw), tol=1e-12)
    errors = fd_relative_errors(f, (x, w, b))
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_match_torch_modules_and_finite_differences(mode):
    # nn.Conv2d's own padding_mode (not F.pad by hand): forward, dx, dw and db in float64
    g = torch.Generator().manual_seed(10)
    x = torch.randn(2, 2, 5, 4, dtype=D, generator=g)
    kw = dict(stride=(1, 2), padding=(2, 1), dilation=(1, 2))
    module = torch.nn.Conv2d(2, 3, (3, 2), padding_mode=mode, **kw).double()
    w, b = module.weight.detach().clone(), module.bias.detach().clone()
    mine = grads(lambda x, w, b: ct.conv2d(x, w, b, padding_mode=mode, **kw), (x, w, b))
    xt = x.clone().requires_grad_()
    yt = module(xt)
    yt.backward(torch.randn(yt.shape, dtype=D, generator=torch.Generator().manual_seed(0)))
    assert_same(mine, (yt.detach(), [xt.grad, module.weight.grad, module.bias.grad]))
    # the padding's backward adds the gradient of every copied border pixel back to its source
    errors = fd_relative_errors(lambda x, w, b: ct.conv2d(x, w, b, padding_mode=mode, **kw), (x, w, b))
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(stride=2, padding=1), dict(dilation=2, groups=2), dict(stride=(1, 2), padding=(0, 1), groups=4)],
)
def test_conv2d_gradcheck_and_second_derivative(kw):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 6, 5, dtype=D, generator=g, requires_grad=True)
    w = torch.randn(4, 4 // kw.get("groups", 1), 3, 2, dtype=D, generator=g, requires_grad=True)
    b = torch.randn(4, dtype=D, generator=g, requires_grad=True)
    f = lambda x, w, b: ct.conv2d(x, w, b, **kw)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x, w, b))
    assert torch.autograd.gradgradcheck(f, (x, w, b))


def test_conv1d_and_transpose_gradcheck():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 2, 7, dtype=D, generator=g, requires_grad=True)
    w = torch.randn(3, 2, 3, dtype=D, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w: ct.conv1d(x, w, stride=2, padding=1, dilation=2), (x, w))
    x = torch.randn(1, 2, 3, 4, dtype=D, generator=g, requires_grad=True)
    w = torch.randn(2, 3, 2, 3, dtype=D, generator=g, requires_grad=True)
    b = torch.randn(3, dtype=D, generator=g, requires_grad=True)
    f = lambda x, w, b: ct.conv_transpose2d(x, w, b, stride=(2, 3), padding=1, output_padding=(1, 0))  # noqa: E731
    assert torch.autograd.gradcheck(f, (x, w, b))
    assert torch.autograd.gradgradcheck(f, (x, w, b))


def test_dtype_and_numpy_input():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    assert ct.conv2d(x, w).dtype == torch.float32
    assert ct.conv2d(x.half().float(), w).dtype == torch.float32
    y = ct.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))
    assert y.dtype == torch.float64 and y.tolist() == [[[[4.0, 4.0], [4.0, 4.0]]]]
    assert ct.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.int64), torch.ones(1, 1, 3, 3, dtype=D)).item() == 9.0


def test_inputs_are_not_modified():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 2, 6, 6, dtype=D, generator=g, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=D, generator=g, requires_grad=True)
    b = torch.randn(3, dtype=D, generator=g, requires_grad=True)
    kept = [t.detach().clone() for t in (x, w, b)]
    ct.conv2d(x, w, b, stride=2, padding=1).sum().backward()
    ct.conv_transpose2d(x, w.transpose(0, 1), b, stride=2).sum().backward()
    for t, k in zip((x, w, b), kept):
        assert torch.equal(t.detach(), k)
    xa = np.ones((1, 1, 4, 4))
    ct.conv2d(xa, np.ones((1, 1, 2, 2)))
    assert np.array_equal(xa, np.ones((1, 1, 4, 4)))


def test_errors_name_the_problem():
    x, w = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"4 dimensions \(N, C, H, W\).*\(3, 8, 8\)"):
        ct.conv2d(x[0], w)
    with pytest.raises(ValueError, match=r"\(K, C // groups, F_h, F_w\)"):
        ct.conv2d(x, w[0])
    with pytest.raises(ValueError, match=r"input has 3 channels.*2"):
        ct.conv2d(x, torch.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"divisible by groups \(2\)"):
        ct.conv2d(x, w, groups=2)
    with pytest.raises(ValueError, match=r"the kernel count K=4 must be divisible by groups \(3\)"):
        ct.conv2d(torch.randn(1, 3, 8, 8), torch.randn(4, 1, 3, 3), groups=3)
    with pytest.raises(ValueError, match="stride must be positive.*got 0"):
        ct.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="dilation must be positive.*got -1"):
        ct.conv2d(x, w, dilation=(1, -1))
    with pytest.raises(ValueError, match="padding must be non-negative.*got -1"):
        ct.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"kernel_size 3 \(dilation 4 spreads it over 9\) is larger than the padded input 8"):
        ct.conv2d(x, w, dilation=4)
    with pytest.raises(TypeError, match="stride must be an int or a tuple"):
        ct.conv2d(x, w, stride=1.5)
    with pytest.raises(TypeError, match="groups"):
        ct.conv2d(x, w, groups="1")
    with pytest.raises(TypeError, match="numeric tensor"):
        ct.conv2d("image", w)
    with pytest.raises(TypeError, match="float64.*float32"):
        ct.conv2d(x, w.double())
    with pytest.raises(ValueError, match=r"one entry per output channel \(4,\)"):
        ct.conv2d(x, w, torch.zeros(3))
    with pytest.raises(ValueError, match="reflect padding 8 must be smaller than the input size 8"):
        ct.conv2d(x, w, padding=8, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of.*'mirror'"):
        ct.conv2d(x, w, padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"\(N, C, L\)"):
        ct.conv1d(x, w)
    with pytest.raises(ValueError, match="input has 3 channels but w has 4"):
        ct.conv_transpose2d(x, torch.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"output_padding 2 must be smaller than stride \(2\) or dilation \(1\)"):
        ct.conv_transpose2d(x, torch.randn(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="padding 3 removes the whole output"):
        ct.conv_transpose2d(torch.randn(1, 1, 1, 1), torch.randn(1, 1, 3, 3), padding=3)


def test_module_wrappers_share_torch_parameters():
    torch.manual_seed(0)
    mine, theirs = ct.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), torch.nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2)
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 2, 9, 9)
    close(mine(x), theirs(x), tol=1e-5)
    m1, t1 = ct.Conv1d(2, 3, 3, padding=1), torch.nn.Conv1d(2, 3, 3, padding=1)
    m1.load_state_dict(t1.state_dict())
    close(m1(x[:, :, 0]), t1(x[:, :, 0]), tol=1e-5)
    mt = ct.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
    tt = torch.nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
    mt.load_state_dict(tt.state_dict())
    close(mt(x), tt(x), tol=1e-5)
    for mode in ("replicate", "reflect", "circular"):
        mine, theirs = ct.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode), torch.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
        mine.load_state_dict(theirs.state_dict())
        close(mine(x), theirs(x), tol=1e-5)
    with pytest.raises(ValueError, match="padding='same'"):
        ct.Conv2d(1, 1, 3, padding="same")
    with pytest.raises(ValueError, match="output_size"):
        mt(x, output_size=(18, 18))
