"""coursecnn.visualize: saliency against finite differences and a linear model, occlusion
against a loop, the Zeiler-Fergus projection against the same steps in torch (float64)."""

import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from coursecnn import ref, visualize
from coursecnn.models import LeNet5
from coursecnn.visualize import deconv_projection, occlusion, saliency


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 4)).double()


def test_docstring_examples_hold():
    result = doctest.testmod(visualize)
    assert result.attempted >= 4 and result.failed == 0


def test_saliency_is_the_size_of_the_input_gradient():
    net = _net()
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    target = [1, 3]
    s = saliency(net, x, target=target)
    assert s.shape == (2, 8, 8) and (s >= 0).all()
    for i, t in enumerate(target):
        def score(v, i=i, t=t):
            with torch.no_grad():
                return float(net(torch.tensor(v)[None])[0, t])
        num = ref.numerical_gradient(score, x[i].numpy())
        np.testing.assert_allclose(s[i].numpy(), np.abs(num).max(axis=0), atol=1e-6)


def test_saliency_defaults_to_the_predicted_class_and_keeps_the_mode():
    net = _net().train()
    x = torch.randn(3, 1, 8, 8, dtype=torch.float64)
    predicted = net(x).argmax(1).tolist()
    torch.testing.assert_close(saliency(net, x), saliency(net, x, target=predicted))
    assert net.training and x.grad is None


def test_occlusion_matches_a_loop():
    net = _net()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    got = occlusion(net, x, target=2, size=3, stride=2, fill=0.5)
    assert got.shape == (1, 3, 3)
    for i in range(3):
        for j in range(3):
            covered = x.clone()
            covered[..., 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] = 0.5
            with torch.no_grad():
                expected = net(covered).softmax(1)[0, 2]
            torch.testing.assert_close(got[0, i, j], expected)


def _torch_projection(features, x, stop, channel):
    """The same deconvnet steps with torch's max_unpool2d and conv_transpose2d."""
    layers, a, trace = list(features)[: stop + 1], x[None], []
    for m in layers:
        if isinstance(m, nn.MaxPool2d):
            y, idx = F.max_pool2d(a, m.kernel_size, m.stride, m.padding, return_indices=True)
            trace.append((a.shape, idx))
            a = y
        else:
            trace.append((a.shape, None))
            a = m(a)
    r = torch.zeros_like(a)
    pos = a[0, channel].argmax()
    r[0, channel].view(-1)[pos] = a[0, channel].view(-1)[pos]
    for m, (shape, idx) in zip(reversed(layers), reversed(trace)):
        if isinstance(m, nn.MaxPool2d):
            r = F.max_unpool2d(r, idx, m.kernel_size, m.stride, m.padding, output_size=shape[2:])
        elif isinstance(m, nn.ReLU):
            r = F.relu(r)
        else:
            r = F.conv_transpose2d(r, m.weight, None, m.stride, m.padding)
    return r[0]


@pytest.mark.parametrize("layer", ["c1", "s2", "c3", "act3", "s4"])
def test_projection_matches_torch_on_lenet(layer):
    torch.manual_seed(1)
    net = LeNet5().double()
    x = torch.rand(1, 32, 32, dtype=torch.float64)
    p = deconv_projection(net.features, x, layer)
    stop = [n for n, _ in net.features.named_children()].index(layer)
    with torch.no_grad():
        expected = _torch_projection(net.features, x, stop, p.channel)
    assert p.image.shape == (1, 32, 32)
    np.testing.assert_allclose(p.image, expected.numpy(), atol=1e-10)
    with torch.no_grad():
        acts = net.features[: stop + 1](x[None])[0, p.channel]
    assert p.activation == pytest.approx(float(acts.max()))
    assert acts[p.position].item() == pytest.approx(p.activation)


def test_projection_of_a_strided_padded_conv_has_the_input_size():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2)).double()
    x = torch.rand(2, 9, 9, dtype=torch.float64)
    p = deconv_projection(net, x, 2, channel=1)
    assert p.image.shape == (2, 9, 9) and p.channel == 1


def test_bad_input_gets_a_clear_error():
    net = _net()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        saliency(lambda v: v, x)
    with pytest.raises(ValueError, match=r"4 dimensions \(N, C, H, W\)"):
        saliency(net, x[0])
    with pytest.raises(ValueError, match=r"target classes must be in \[0, 4\)"):
        saliency(net, x, target=7)
    with pytest.raises(ValueError, match="patch .* must fit"):
        occlusion(net, x, size=9)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        occlusion(net, x, stride=0)
    with pytest.raises(ValueError, match="layer must be one of"):
        deconv_projection(LeNet5().features, torch.rand(1, 32, 32), "c9")
    with pytest.raises(ValueError, match="handles Conv2d, ReLU and MaxPool2d"):
        deconv_projection(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Tanh()), torch.rand(1, 8, 8), 1)
    with pytest.raises(ValueError, match="one image"):
        deconv_projection(LeNet5().features, torch.rand(2, 1, 32, 32), "c1")
