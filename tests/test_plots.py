"""Tests of coursecnn.plots: what the helpers draw, and their errors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from coursecnn.plots import draw_grid, draw_grids, show_images  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_draw_grid_writes_every_number_in_its_cell():
    values = np.array([[0.0, 1.5, 2.0], [3.0, 4.25, 5.0]])
    ax = draw_grid(values)
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert len(ax.texts) == 6
    assert ((1.5, 1.5), "4.25") in texts  # row 1, column 1 sits at cell centre (x=1.5, y=1.5)
    assert ((0.5, 0.5), "0") in texts
    assert ax.get_ylim() == (2.0, 0.0)  # row 0 on top, like a matrix


def test_draw_grid_outlines_each_highlighted_box():
    ax = draw_grid(np.zeros((6, 6)), highlight=[(0, 0, 3, 3), (2, 1, 3, 3)])
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sorted((b.get_x(), b.get_y(), b.get_width(), b.get_height()) for b in boxes) == [
        (0, 0, 3, 3),
        (1, 2, 3, 3),
    ]


def test_draw_grid_single_box_and_custom_format():
    ax = draw_grid(np.arange(4).reshape(2, 2), highlight=(1, 1, 1, 1), fmt="{:.1f}", title="t")
    assert [t.get_text() for t in ax.texts] == ["0.0", "1.0", "2.0", "3.0"]
    assert len(ax.patches) == 1
    assert ax.get_title() == "t"
    assert len(draw_grid(np.ones((2, 2)), fmt="").texts) == 0


def test_draw_grid_does_not_modify_its_input():
    values = np.array([[1.0, -2.0], [3.0, 4.0]])
    copy = values.copy()
    draw_grid(values)
    np.testing.assert_array_equal(values, copy)


def test_draw_grid_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"shape \(H, W\).*\(3, 3, 3\)"):
        draw_grid(np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="inside the 4x4 grid"):
        draw_grid(np.zeros((4, 4)), highlight=(2, 2, 3, 3))
    with pytest.raises(ValueError, match=r"\(top, left, height, width\)"):
        draw_grid(np.zeros((4, 4)), highlight=(0, 0, 2))
    with pytest.raises(TypeError, match="numeric"):
        draw_grid([["a", "b"]])


def test_draw_grids_lays_out_grids_and_symbols():
    fig, axes = draw_grids([np.zeros((6, 6)), np.ones((3, 3)), np.eye(4)], titles=["in", "k", "out"],
                           highlights=[(0, 0, 3, 3), None, (0, 0, 1, 1)], symbols=["*", "="])
    assert [ax.get_title() for ax in axes] == ["in", "k", "out"]
    assert [len(ax.texts) for ax in axes] == [36, 9, 16]
    assert [t.get_text() for t in fig.texts] == ["*", "="]
    assert fig.get_size_inches()[0] <= 9.0 + 1e-9
    with pytest.raises(ValueError, match="symbols must have 1 entries, got 2"):
        draw_grids([np.zeros((2, 2)), np.zeros((2, 2))], symbols=["*", "="])


def test_show_images_one_axes_per_image():
    rng = np.random.default_rng(0)
    fig, axes = show_images([rng.random((5, 5)), rng.random((5, 5, 3)), np.zeros((3, 4))],
                            titles=["a", "b", "c"], ncols=2)
    assert len(axes) == 3
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert axes[1].images[0].get_array().shape == (5, 5, 3)
    assert len(fig.axes) == 4  # a 2x2 layout, the fourth switched off
    assert not fig.axes[3].axison


def test_show_images_errors():
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\).*\(2, 2, 2, 2\)"):
        show_images([np.zeros((2, 2, 2, 2))])
    with pytest.raises(ValueError, match="titles must have 1 entries, got 2"):
        show_images([np.zeros((2, 2))], titles=["a", "b"])
    with pytest.raises(ValueError, match="at least one image"):
        show_images([])
