import re

import numpy as np
import pytest
import torch

from coursecnn.models import AlexNet, AllConvNet, LectureCNN, LeNet5, Summary, summary


def shapes(s):
    return {row.name.rsplit(".", 1)[-1]: row.output_shape for row in s.rows}


def test_lenet5_table():
    s = summary(LeNet5(), (1, 32, 32))
    assert isinstance(s, Summary)
    got = shapes(s)
    assert got["c1"] == (6, 28, 28)
    assert got["s2"] == (6, 14, 14)
    assert got["c3"] == (16, 10, 10)
    assert got["s4"] == (16, 5, 5)
    assert got["c5"] == (120, 1, 1)
    assert got["f6"] == (84,)
    assert got["output"] == (10,)
    # 6*(25+1) + 16*(6*25+1) + 120*(16*25+1) + 84*(120+1) + 10*(84+1)
    assert [s[n].params for n in ("c1", "c3", "c5", "f6", "output")] == [156, 2416, 48120, 10164, 850]
    assert s.total_params == 61_706 == sum(r.params for r in s.rows)
    assert s["c1"].mult_adds == 6 * 28 * 28 * 25
    assert s["s2"].params == 0


def test_lenet5_variants_and_batch():
    x = torch.randn(3, 1, 32, 32)
    for act in ("relu", "tanh"):
        for pool in ("max", "avg"):
            net = LeNet5(num_classes=7, activation=act, pool=pool)
            assert net(x).shape == (3, 7)
    assert type(LeNet5(activation="tanh").features.act1).__name__ == "Tanh"
    assert type(LeNet5(pool="avg").features.s2).__name__ == "AvgPool2d"
    with pytest.raises(ValueError, match="'relu' or 'tanh'.*'sigmoid'"):
        LeNet5(activation="sigmoid")
    with pytest.raises(ValueError, match="'max' or 'avg'.*'min'"):
        LeNet5(pool="min")
    with pytest.raises(ValueError, match="impl.*'numpy'"):
        LeNet5(impl="numpy")


def test_alexnet_matches_the_lecture_table():
    net = AlexNet()
    s = summary(net, (3, 227, 227))
    got = shapes(s)
    assert got["conv1"] == (96, 55, 55)
    assert got["pool1"] == (96, 27, 27)
    assert got["norm1"] == (96, 27, 27)
    assert got["conv2"] == (256, 27, 27)
    assert got["pool2"] == (256, 13, 13)
    assert got["conv3"] == (384, 13, 13)
    assert got["conv4"] == (384, 13, 13)
    assert got["conv5"] == (256, 13, 13)
    assert got["pool3"] == (256, 6, 6)
    assert got["fc6"] == got["fc7"] == (4096,)
    assert got["fc8"] == (1000,)
    assert s["conv1"].params == (11 * 11 * 3) * 96 + 96 == 34_944
    assert s["pool1"].params == 0
    assert s["conv1"].mult_adds == 55 * 55 * 96 * 11 * 11 * 3
    assert s.total_params == 62_378_344
    # The two-GPU original (groups=2 in CONV2, CONV4, CONV5) is the lecture's "60M".
    halved = sum(getattr(net.features, n).weight.numel() // 2 for n in ("conv2", "conv4", "conv5"))
    assert s.total_params - halved == 60_965_224
    kinds = {type(m).__name__ for m in net.features}
    assert kinds == {"Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm"}
    assert isinstance(net.features, torch.nn.Sequential)
    assert net.classifier.drop6.p == 0.5
    assert AlexNet(dropout=0.2, num_classes=10).classifier.drop7.p == 0.2
    with pytest.raises(ValueError, match="dropout.*1.5"):
        AlexNet(dropout=1.5)


def test_allconvnet_has_no_pooling_and_downsamples_by_stride():
    net = AllConvNet()
    for side in (28, 32):
        s = summary(net, (1, side, side))
        assert not any("Pool" in r.type and "Adaptive" not in r.type for r in s.rows)
        assert s["down1"].output_shape[1:] == ((side + 1) // 2,) * 2
        assert s.rows[-1].output_shape == (10,)
    assert s.total_params == 25_946
    assert AllConvNet(num_classes=5, in_channels=3)(torch.randn(2, 3, 32, 32)).shape == (2, 5)


def test_lecture_cnn_shapes_and_dropout():
    s = summary(LectureCNN(), (1, 28, 28))
    got = shapes(s)
    assert got["conv1"] == (6, 24, 24)
    assert got["pool1"] == (6, 12, 12)
    assert got["conv2"] == (12, 8, 8)
    assert got["pool2"] == (12, 4, 4)
    assert got["flatten"] == (192,)
    assert got["fc1"] == (256,)
    assert got["fc2"] == (10,)
    assert s.total_params == 156 + 1812 + 193 * 256 + 257 * 10
    assert not any(r.type == "Dropout" for r in s.rows)
    net = LectureCNN(dropout=True, input_size=32)
    assert [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)] == [0.5, 0.5]
    assert summary(net, (1, 32, 32))["flatten"].output_shape == (300,)
    # dropout is active in training mode only
    x = torch.randn(4, 1, 32, 32)
    net.eval()
    assert torch.equal(net(x), net(x))
    with pytest.raises(ValueError, match="input_size.*12"):
        LectureCNN(input_size=12)


def test_summary_rendering_and_mode():
    net = LeNet5().train()
    s = summary(net, (8, 1, 32, 32))  # a batch shape reports one sample
    assert net.training
    text = str(s)
    lines = text.splitlines()
    assert "28x28x6" in text and "61,706" in lines[-1]
    # columns aligned: numbers are right-justified, so every row is as long as the rule
    assert {len(line) for line in lines[1:]} == {len(lines[2])}
    header = lines[1]
    assert header.index("output") == lines[3].index("28x28x6")
    html = s._repr_html_()
    assert html.startswith("<table") and html.count("<tr>") == len(s) + 2 and "61,706" in html
    assert s[0] is s.rows[0] and len(list(s)) == len(s)
    with pytest.raises(KeyError, match="c9"):
        s["c9"]
    with pytest.raises(TypeError, match="nn.Module"):
        summary("LeNet5", (1, 32, 32))
    with pytest.raises(ValueError, match="input_shape"):
        summary(net, (1, -32, 32))


def test_summary_does_not_keep_hooks():
    net = LeNet5()
    summary(net, (1, 32, 32))
    assert all(not m._forward_hooks for m in net.modules())


def test_models_declare_their_input_shape():
    assert LeNet5().input_shape == (1, 32, 32)
    assert AlexNet(num_classes=10).input_shape == (3, 227, 227)
    assert LectureCNN(in_channels=3, input_size=32).input_shape == (3, 32, 32)
    for net in (LeNet5(), LectureCNN(), LectureCNN(input_size=32, in_channels=2)):
        assert summary(net, net.input_shape).rows  # the declared shape runs
    assert "input_shape" not in LeNet5().state_dict()


@pytest.mark.parametrize("shape", [(32, 32), (1,), (1, 1, 1, 32, 32), ()])
def test_summary_wants_three_or_four_dimensions(shape):
    with pytest.raises(
        ValueError,
        match=rf"^summary: input_shape must be one sample \(C, H, W\) or a batch \(N, C, H, W\), got {re.escape(str(shape))}",
    ):
        summary(LeNet5(), shape)


def test_summary_input_shape_must_be_positive_ints():
    with pytest.raises(ValueError, match=r"^summary: input_shape must be a tuple of positive ints such as \(1, 32, 32\), got \(1, -32, 32\)$"):
        summary(LeNet5(), (1, -32, 32))
    with pytest.raises(ValueError, match=r"got \(1, True, 32\)$"):
        summary(LeNet5(), (1, True, 32))
    with pytest.raises(ValueError, match=r"got 32$"):
        summary(LeNet5(), 32)
    # numpy ints and torch.Size are shapes too
    assert summary(LeNet5(), (np.int64(1), 32, 32)).input_shape == (1, 32, 32)
    assert summary(LeNet5(), torch.zeros(2, 1, 32, 32).shape).input_shape == (1, 32, 32)


@pytest.mark.parametrize("data", [torch.zeros(1, 1, 32, 32), np.zeros((1, 1, 32, 32))])
def test_summary_of_data_instead_of_a_shape_is_not_printed_whole(data):
    name = type(data).__name__
    with pytest.raises(ValueError, match=rf"got a {name} of shape \(1, 1, 32, 32\) \(pass its \.shape, not the data\)$") as info:
        summary(LeNet5(), data)
    assert len(str(info.value)) < 200 and "0." not in str(info.value)


@pytest.mark.parametrize("impl", ["torch", "coursecnn"])
def test_summary_names_the_layer_that_fails(impl):
    net = LeNet5(impl=impl).train()
    # a 28x28 digit is 4x4 when it reaches C5's 5x5 kernels
    with pytest.raises(
        ValueError,
        match=r"^summary: layer 'features\.c5' \(Conv2d\) failed on input of shape \(1, 16, 4, 4\): .+; LeNet5 expects input \(1, 32, 32\)$",
    ) as info:
        summary(net, (1, 28, 28))
    assert info.value.__cause__ is not None  # PyTorch's (or coursecnn.torch's) own error, kept
    # afterwards: no hooks left, the mode restored
    assert net.training and all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    with pytest.raises(ValueError, match=r"layer 'classifier\.fc1' \(Linear\) failed on input of shape \(1, 300\): .*; LectureCNN expects input \(1, 28, 28\)$"):
        summary(LectureCNN(impl=impl), (1, 32, 32))
    with pytest.raises(ValueError, match=r"layer 'features\.c1' \(Conv2d\) failed on input of shape \(1, 3, 32, 32\)"):
        summary(LeNet5(impl=impl), (3, 32, 32))


def test_summary_failure_without_a_declared_shape():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(10, 2))
    with pytest.raises(ValueError, match=r"^summary: layer '1' \(Linear\) failed on input of shape \(1, 9\): [^;]+$"):
        summary(net, (1, 3, 3))

    class Reshapes(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return self.conv(x).view(-1, 7)  # fails outside any layer

    with pytest.raises(ValueError, match=r"^summary: Reshapes failed after layer 'conv' \(Conv2d\), whose output has shape \(1, 2, 3, 3\): "):
        summary(Reshapes(), (1, 5, 5))
