"""coursecnn.plots.draw_architecture and describe_architecture: the drawings the architectures
chapter shows (the lecture's typical CNN, LeNet-5's layout), made from the model itself."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from coursecnn.models import LectureCNN, LeNet5, summary  # noqa: E402
from coursecnn.plots import describe_architecture, draw_architecture  # noqa: E402


def test_lenet_layout_in_words_follows_the_paper():
    words = describe_architecture(summary(LeNet5(), (1, 32, 32)))
    order = ["input 1@32×32", "conv 6@28×28", "max pool 6@14×14", "conv 16@10×10", "max pool 16@5×5",
             "conv 120@1×1", "flatten", "FC 84", "FC 10"]
    positions = [words.index(part) for part in order]
    assert positions == sorted(positions), words


def test_lecture_net_pools_before_its_relu():
    words = describe_architecture(summary(LectureCNN(), (1, 28, 28))).split(", ")
    assert words[1:4] == ["conv 6@24×24", "max pool 6@12×12", "ReLU"]
    assert words[-3:] == ["FC 256", "ReLU", "FC 10"]


def test_drawing_has_one_label_per_block():
    table = summary(LeNet5(), (1, 32, 32))
    ax = draw_architecture(table, title="LeNet-5")
    texts = [t.get_text() for t in ax.texts]
    blocks = [t for t in texts if "@" in t or t.startswith("FC")]
    # input, 3 convolutions, 2 pools, 2 fully connected layers
    assert len(blocks) == 8, texts
    assert any("6@28×28" in t for t in texts) and ax.get_title() == "LeNet-5"
    plt.close(ax.figure)


def test_not_a_summary_is_a_clear_error():
    with pytest.raises(TypeError, match="coursecnn.models.summary"):
        draw_architecture(LeNet5())
    with pytest.raises(TypeError, match="got list"):
        describe_architecture([1, 2])
