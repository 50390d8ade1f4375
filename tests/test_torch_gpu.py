"""coursecnn.torch on CUDA, compared with the same ops on the CPU in float64.

Skipped without a CUDA device. TF32 is switched off inside each test (it rounds float32 matrix
products to 10 mantissa bits on recent GPUs, which would hide real errors behind its own).
"""

import pytest
import torch

import coursecnn.torch as ct
from coursecnn.models import AllConvNet, LeNet5

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(autouse=True)
def no_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def on_both(f, *tensors, dtype):
    """Run ``f`` forward and backward on CPU float64 and on CUDA in ``dtype``; return both."""
    results = []
    for device, dt in (("cpu", torch.float64), ("cuda", dtype)):
        leaves = [t.to(device=device, dtype=dt, copy=True).requires_grad_() for t in tensors]
        y = f(*leaves)
        dy = torch.ones_like(y) if y.dim() == 0 else torch.linspace(-1, 1, y.numel(), device=device, dtype=dt).reshape(y.shape)
        y.backward(dy)
        assert y.device.type == device and y.dtype == dt
        results.append([y.detach().cpu().double()] + [t.grad.cpu().double() for t in leaves])
    return results


CASES = [
    ("conv2d", lambda x, w, b: ct.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2), [(2, 4, 11, 13), (6, 2, 3, 3), (6,)]),
    ("conv1d", lambda x, w: ct.conv1d(x, w, stride=2, padding=1), [(2, 3, 17), (4, 3, 5)]),
    ("conv_transpose2d", lambda x, w, b: ct.conv_transpose2d(x, w, b, stride=2, padding=1), [(2, 3, 5, 6), (3, 4, 3, 3), (4,)]),
    ("max_pool2d", lambda x: ct.max_pool2d(x, 3, stride=2, padding=1), [(2, 3, 9, 10)]),
    ("avg_pool2d", lambda x: ct.avg_pool2d(x, (2, 3), stride=1, padding=1), [(2, 3, 9, 10)]),
    ("linear", ct.linear, [(5, 7), (3, 7), (3,)]),
    ("relu", ct.relu, [(4, 6)]),
    ("cross_entropy", lambda z: ct.cross_entropy(z, torch.tensor([0, 2, 1, 2], device=z.device)), [(4, 3)]),
]


@pytest.mark.parametrize(("name", "f", "shapes"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_cuda_matches_cpu_float64(name, f, shapes, dtype, tol):
    g = torch.Generator().manual_seed(0)
    tensors = [torch.randn(s, dtype=torch.float64, generator=g) for s in shapes]
    cpu, cuda = on_both(f, *tensors, dtype=dtype)
    for a, b in zip(cuda, cpu):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def test_cuda_gradcheck():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 6, 5, dtype=torch.float64, generator=g).cuda().requires_grad_()
    w = torch.randn(3, 2, 3, 2, dtype=torch.float64, generator=g).cuda().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: ct.conv2d(x, w, stride=2, padding=1), (x, w))
    assert torch.autograd.gradcheck(lambda x: ct.max_pool2d(x, 2, stride=1), (x,))


@pytest.mark.parametrize("cls", [LeNet5, AllConvNet])
def test_models_on_cuda_match_cpu(cls):
    torch.manual_seed(0)
    cpu = cls(impl="coursecnn").double()
    gpu = cls(impl="coursecnn").cuda()
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(4, 1, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(gpu(x.cuda().float()).cpu().double(), cpu(x), rtol=1e-4, atol=1e-4)
