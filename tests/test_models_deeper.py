"""Chapter 7's models (VGG-16, ResNet-18, the residual block, ConvStack, LeNet5BN) and the
shift augmentation of coursecnn.data."""

import doctest

import numpy as np
import pytest
import torch

from coursecnn.data import augment, random_shifts, shift_images, shift_loader
from coursecnn.models import ConvStack, LeNet5, LeNet5BN, ResidualBlock, ResNet18, VGG16, lenet_bn, resnet, summary, vgg


def test_docstring_examples_hold():
    for module in (vgg, resnet, lenet_bn, augment):
        result = doctest.testmod(module)
        assert result.attempted >= 2 and result.failed == 0, module.__name__


def test_vgg16_shapes_and_parameters():
    with torch.device("meta"):
        net = VGG16()
    table = summary(net, net.input_shape)
    assert table.total_params == 138_357_544
    assert [table[f"features.pool{k}"].output_shape[1] for k in range(1, 6)] == [112, 56, 28, 14, 7]
    convs = [row for row in table if row.type == "Conv2d"]
    assert len(convs) == 13


def test_resnet18_shapes_and_parameters():
    with torch.device("meta"):
        net = ResNet18()
    table = summary(net, net.input_shape)
    assert table.total_params == 11_689_512
    assert table["features.pool"].output_shape == (64, 56, 56)
    assert table["classifier.average"].output_shape == (512, 1, 1)


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    block = ResidualBlock(4, 4).eval()
    x = torch.randn(2, 4, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(block(x), torch.relu(block.branch(x) + x))
        projected = ResidualBlock(4, 8, stride=2).eval()
        assert projected(x).shape == (2, 8, 3, 3)


def test_coursecnn_impl_gives_the_same_outputs():
    torch.manual_seed(0)
    a, b = LeNet5BN(), LeNet5BN(impl="coursecnn")
    b.load_state_dict(a.state_dict())
    x = torch.randn(5, 1, 32, 32)
    torch.testing.assert_close(a(x), b(x))  # training mode: batch statistics
    torch.testing.assert_close(a.features.bn1.running_mean, b.features.bn1.running_mean)
    block_a, block_b = ResidualBlock(3, 6, 2), ResidualBlock(3, 6, 2, impl="coursecnn")
    block_b.load_state_dict(block_a.state_dict())
    torch.testing.assert_close(block_a(x[:, :1].expand(5, 3, 32, 32)), block_b(x[:, :1].expand(5, 3, 32, 32)))


def test_lenet5bn_has_batch_norm_after_each_convolution():
    net = LeNet5BN()
    names = [n for n, _ in net.features.named_children()]
    assert names.index("bn1") == names.index("c1") + 1 and names.index("bn5") == names.index("c5") + 1
    assert net.features.c1.bias is None
    assert summary(net, (1, 32, 32)).total_params == 61_706 - 142 + 2 * 142


def test_residual_stack_passes_more_gradient_than_a_plain_one():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 8, 8)
    first = {}
    for residual in (False, True):
        stack = ConvStack(10, channels=8, residual=residual)
        stack(x).square().mean().backward()
        first[residual] = stack.units[0].conv1.weight.grad.norm().item()
    assert first[True] > 100 * first[False]
    with pytest.raises(ValueError, match="depth must be a positive int"):
        ConvStack(0)


def test_shifts_move_the_pixels_and_fill_the_border():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y = shift_images(x, 1, 2, fill=-1.0)
    torch.testing.assert_close(y[0, 0, 1:, 2:], x[0, 0, :3, :2])
    assert (y[0, 0, 0] == -1).all() and (y[0, 0, :, :2] == -1).all()
    torch.testing.assert_close(shift_images(x, 0, 0), x)
    np_in = np.zeros((2, 1, 5, 5))
    assert shift_images(np_in, -1, 0).shape == (2, 1, 5, 5)
    with pytest.raises(ValueError, match="out of its frame"):
        shift_images(x, 4, 0)
    with pytest.raises(ValueError, match=r"4 dimensions \(N, C, H, W\)"):
        shift_images(x[0], 1, 1)
    with pytest.raises(TypeError, match="int number of pixels"):
        shift_images(x, 0.5, 1)


def test_random_shifts_are_shifts_within_the_range():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(50, 1, 9, 9)
    x[:, 0, 4, 4] = 1
    y = random_shifts(x, 2, generator=g)
    rows, cols = (y[:, 0] == 1).nonzero()[:, 1], (y[:, 0] == 1).nonzero()[:, 2]
    assert len(rows) == 50 and (rows - 4).abs().max() <= 2 and (cols - 4).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10
    with pytest.raises(ValueError, match="max_shift must be in"):
        random_shifts(x, 9)


def test_shift_loader_is_reproducible_and_shifts():
    x = torch.rand(20, 1, 8, 8)
    y = torch.arange(20)
    a = [(xb.clone(), yb.clone()) for xb, yb in shift_loader(x, y, 2, batch_size=8, seed=3)]
    b = [(xb.clone(), yb.clone()) for xb, yb in shift_loader(x, y, 2, batch_size=8, seed=3)]
    for (xa, ya), (xb, yb) in zip(a, b):
        torch.testing.assert_close(xa, xb)
        torch.testing.assert_close(ya, yb)
    assert sorted(torch.cat([yb for _, yb in a]).tolist()) == list(range(20))
