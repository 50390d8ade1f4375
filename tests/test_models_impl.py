"""The impl switch: torch.nn layers and coursecnn.torch layers compute the same network."""

import pytest
import torch

import coursecnn.torch as ct
from coursecnn.models import AlexNet, AllConvNet, LectureCNN, LeNet5

CASES = [
    (LeNet5, {}, (3, 1, 32, 32)),
    (LeNet5, {"activation": "tanh", "pool": "avg"}, (3, 1, 32, 32)),
    (AllConvNet, {}, (3, 1, 28, 28)),
    (LectureCNN, {"dropout": True}, (3, 1, 28, 28)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), CASES)
def test_same_weights_same_outputs_and_gradients(cls, kwargs, shape):
    torch.manual_seed(0)
    a = cls(impl="torch", **kwargs).double().eval()
    b = cls(impl="coursecnn", **kwargs).double().eval()
    b.load_state_dict(a.state_dict())  # the same keys and shapes in both implementations
    a.load_state_dict(b.state_dict())
    x = torch.randn(shape, dtype=torch.float64)
    ya, yb = a(x), b(x)
    torch.testing.assert_close(yb, ya, rtol=1e-12, atol=1e-12)
    target = torch.arange(shape[0]) % ya.shape[1]
    torch.nn.functional.cross_entropy(ya, target).backward()
    ct.cross_entropy(yb, target).backward()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pb.grad, pa.grad, rtol=1e-10, atol=1e-12, msg=name)


def test_coursecnn_impl_uses_the_books_ops():
    net = LeNet5(impl="coursecnn")
    kinds = {type(m) for m in net.modules()}
    assert {ct.Conv2d, ct.MaxPool2d, ct.Linear, ct.ReLU} <= kinds
    assert torch.nn.Conv2d not in kinds
    alex = AlexNet(num_classes=10, impl="coursecnn")
    assert type(alex.features.conv1) is ct.Conv2d and isinstance(alex.features.conv1, torch.nn.Conv2d)
    assert type(alex.features.pool1) is ct.MaxPool2d


def test_alexnet_impls_agree_on_one_image():
    torch.manual_seed(1)
    a = AlexNet(num_classes=10).eval()
    b = AlexNet(num_classes=10, impl="coursecnn").eval()
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 3, 227, 227)
    with torch.no_grad():
        torch.testing.assert_close(b(x), a(x), rtol=1e-4, atol=1e-5)  # float32, different summation order


def test_lenet5_coursecnn_trains():
    torch.manual_seed(0)
    net = LeNet5(impl="coursecnn")
    x, y = torch.randn(16, 1, 32, 32), torch.arange(16) % 10
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    first = None
    for _ in range(25):
        opt.zero_grad()
        loss = ct.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first


def test_summary_is_the_same_for_both_impls():
    from coursecnn.models import summary

    for cls, shape in ((LeNet5, (1, 32, 32)), (LectureCNN, (1, 28, 28))):
        a, b = summary(cls(), shape), summary(cls(impl="coursecnn"), shape)
        assert a.rows == b.rows and a.total_params == b.total_params
        assert b.total_mult_adds > 0
