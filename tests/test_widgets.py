"""The ipywidgets explorers and static_explorer: driven like a reader would, checked against ref."""

import html
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecnn import arith, ref
from coursecnn.widgets import KERNELS, ArithmeticExplorer, KernelExplorer, PoolingExplorer, static_explorer
from coursecnn.widgets.samples import LECTURE_IMAGE, LECTURE_POOL_INPUT, photo_8bit


def conv(x, k, padding=0):
    return ref.conv2d(np.asarray(x, float)[None, None], np.asarray(k, float)[None, None], padding=padding)[0, 0]


# ---------------------------------------------------------------- presets

def test_presets_are_the_lectures_kernels():
    assert {"identity", "box_blur", "gaussian_blur_5x5", "sharpen", "sobel_x", "sobel_y",
            "edge_detection_1", "edge_detection_2"} <= set(KERNELS)
    np.testing.assert_array_equal(KERNELS["sobel_x"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(KERNELS["sobel_y"], KERNELS["sobel_x"].T)
    np.testing.assert_array_equal(KERNELS["gaussian_blur_5x5"][2] * 256, [6, 24, 36, 24, 6])
    np.testing.assert_array_equal(KERNELS["edge_detection_1"], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(KERNELS["edge_detection_2"], [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    for name in ("box_blur", "gaussian_blur_3x3", "gaussian_blur_5x5", "identity", "sharpen"):
        assert KERNELS[name].sum() == pytest.approx(1.0), name  # brightness kept
    for name in ("sobel_x", "sobel_y", "edge_detection_1", "edge_detection_2"):
        assert KERNELS[name].sum() == 0, name  # flat regions give 0
    with pytest.raises(ValueError):
        KERNELS["sobel_x"][0, 0] = 5  # shared presets are read-only


# ---------------------------------------------------------------- kernel explorer

def test_kernel_explorer_lecture_example():
    ex = KernelExplorer(image="lecture", kernel="lecture_example")
    np.testing.assert_allclose(ex.output, conv(LECTURE_IMAGE, KERNELS["lecture_example"]))
    np.testing.assert_allclose(ex.output, LECTURE_POOL_INPUT, atol=1e-12)
    assert ex.selected == (0, 0)
    assert ex.dot_product == "output[0, 0] = 0·0 + 0·0 + 0.5·0 + 0·0 + 0.5·1 + 0·0 + 0·0 + 0·0 + 0.5·0 = 0.5"
    ex.select(0, 1)
    assert ex.dot_product.endswith("0.5·0.4 = 0.2")
    assert ex.picture[:8] == b"\x89PNG\r\n\x1a\n"


def test_kernel_explorer_controls_drive_ref():
    ex = KernelExplorer()  # the photo with Sobel x
    x = photo_8bit(64) / 255
    np.testing.assert_array_equal(ex.image, x)
    np.testing.assert_allclose(ex.output, conv(x, KERNELS["sobel_x"]), atol=1e-12)
    # typing an entry in the grid
    ex._entries[0][2].value = 2.5
    k = np.array(KERNELS["sobel_x"])
    k[0, 2] = 2.5
    np.testing.assert_array_equal(ex.kernel, k)
    np.testing.assert_allclose(ex.output, conv(x, k), atol=1e-12)
    assert ex._preset_w.value == "(edited)"
    # a preset from the dropdown, then padding
    ex._preset_w.value = "gaussian_blur_5x5"
    assert ex.kernel.shape == (5, 5) and ex._size_w.value == 5
    ex._pad_w.value = 2
    assert ex.output.shape == (64, 64)
    np.testing.assert_allclose(ex.output, conv(x, KERNELS["gaussian_blur_5x5"], padding=2), atol=1e-12)
    # back to 3x3 keeps the centre; a digit as input; the output-pixel sliders pick the dot product
    ex._size_w.value = 3
    np.testing.assert_array_equal(ex.kernel, KERNELS["gaussian_blur_5x5"][1:4, 1:4])
    ex._image_w.value = "digit_7"
    assert ex.image.shape == (28, 28)
    ex._row_w.value, ex._col_w.value = 10, 12
    assert ex.selected == (10, 12)
    assert ex.dot_product.startswith("output[10, 12] = ")
    assert float(ex.dot_product.rsplit(" = ", 1)[1]) == pytest.approx(ex.output[10, 12], abs=1e-4)


def test_kernel_explorer_small_kernel_grows_to_size():
    ex = KernelExplorer(image="lecture", kernel="identity", size=5)
    assert ex.kernel.shape == (5, 5) and ex.kernel[2, 2] == 1 and ex.kernel.sum() == 1
    np.testing.assert_allclose(ex.output, LECTURE_IMAGE[2:4, 2:4])


def test_kernel_explorer_invalid_combination_shows_a_message():
    ex = KernelExplorer(image=[[1.0, 2.0], [3.0, 4.0]], kernel="sharpen")
    assert ex.output.size == 0
    assert "No output" in ex.message and "3" in ex.message
    assert "No output" in ex._text.value
    ex.set_padding(1)  # now it fits: 4x4 padded, 2x2 out
    assert ex.message == ""
    np.testing.assert_allclose(ex.output, conv([[1, 2], [3, 4]], KERNELS["sharpen"], padding=1))


def test_kernel_explorer_does_not_modify_its_arguments():
    image, kernel = np.arange(49.0).reshape(7, 7), np.ones((3, 3))
    before = image.copy(), kernel.copy()
    ex = KernelExplorer(image=image, kernel=kernel)
    ex.set_entry(1, 1, 9.0)
    ex.image[0, 0] = 100  # read-back values are copies
    np.testing.assert_array_equal(image, before[0])
    np.testing.assert_array_equal(kernel, before[1])
    np.testing.assert_allclose(ex.output, conv(before[0], [[1, 1, 1], [1, 9, 1], [1, 1, 1]]))


def test_kernel_explorer_bad_arguments():
    with pytest.raises(ValueError, match="size must be 3 or 5, got 4"):
        KernelExplorer(size=4)
    with pytest.raises(ValueError, match="kernel must be one of"):
        KernelExplorer(kernel="blurry")
    with pytest.raises(ValueError, match=r"square 2D array \(F, F\), got shape \(2, 3\)"):
        KernelExplorer(kernel=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"2D array \(H, W\), got shape \(4,\)"):
        KernelExplorer(image=np.ones(4))


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 7), st.integers(3, 7), st.integers(0, 2), st.data())
def test_dot_product_adds_up_to_the_output(h, w, padding, data):
    """The spelled-out terms w·x, summed, give the output pixel (so they are the right pixels)."""
    values = st.integers(-9, 9).map(lambda v: v / 4)
    x = np.array(data.draw(st.lists(st.lists(values, min_size=w, max_size=w), min_size=h, max_size=h)))
    k = np.array(data.draw(st.lists(st.lists(values, min_size=3, max_size=3), min_size=3, max_size=3)))
    ex = KernelExplorer(image=x, kernel=k)
    ex.set_padding(padding)
    r, c = data.draw(st.integers(0, ex.output.shape[0] - 1)), data.draw(st.integers(0, ex.output.shape[1] - 1))
    ex.select(r, c)
    terms, total = ex.dot_product.split(" = ")[1:]
    products = [np.prod([float(f) for f in term.split("·")]) for term in terms.split(" + ")]
    assert len(products) == 9
    assert sum(products) == pytest.approx(ex.output[r, c], abs=1e-9)
    assert float(total) == pytest.approx(ex.output[r, c], abs=1e-4)


# ---------------------------------------------------------------- arithmetic explorer

def test_arithmetic_explorer_sizes_equal_arith():
    ex = ArithmeticExplorer()
    for n, f, p, s, d in [(5, 3, 1, 2, 1), (7, 3, 0, 2, 1), (6, 3, 1, 1, 2), (8, 5, 2, 1, 1), (16, 5, 2, 1, 1), (9, 3, 0, 3, 1)]:
        ex.set(input_size=n, kernel_size=f, padding=p, stride=s, dilation=d, transposed=False)
        assert ex.output_size == arith.conv_output_size(n, f, stride=s, padding=p, dilation=d)
        assert ex.message == ""
        assert ex.formula.endswith(f"= {ex.output_size}")
    with pytest.raises(ValueError, match="input_size must be an int from 1 to 16, got 32"):
        ex.set(input_size=32)


def test_arithmetic_explorer_says_when_the_stride_does_not_fit():
    ex = ArithmeticExplorer()
    ex._w["stride"].value = 3  # 7x7 input, 3x3 kernel: the lecture's example
    assert "doesn't fit" in ex.message and "2.33" in ex.message
    assert ex.formula.endswith("= 2.33")
    assert ex.output_size == 2  # what PyTorch would give, floored
    assert "doesn't fit" in html.unescape(ex._text.value)
    ex.next_step()
    ex.next_step()
    assert ex.step == 2
    for _ in range(2):
        ex.next_step()
    assert ex.step == 0  # 4 windows, wraps around
    ex.previous_step()
    assert ex.step == 3


def test_arithmetic_explorer_kernel_too_large_and_transposed():
    ex = ArithmeticExplorer(input_size=3, kernel_size=5)
    assert ex.output_size is None and "larger" in ex.message
    assert ex._picture.value == ""
    ex.set(transposed=True, input_size=3, kernel_size=3, padding=1, stride=2)
    y = ref.conv_transpose2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1)
    assert ex.output_size == y.shape[-1] == 5
    assert ex.formula.endswith("= 5")
    assert ex._picture.value.count("<td") == 7 * 7 + 5 * 5  # stretched, padded input and output
    with pytest.raises(TypeError, match="unknown name"):
        ex.set(size=3)


# ---------------------------------------------------------------- pooling explorer

FORWARD = {"max": ref.max_pool2d, "avg": ref.avg_pool2d}
BACKWARD = {"max": ref.max_pool2d_backward, "avg": ref.avg_pool2d_backward}


@pytest.mark.parametrize("mode", ["max", "avg", "nmax"])
def test_pooling_explorer_equals_ref(mode):
    rng = np.random.default_rng(1)
    ex = PoolingExplorer()
    ex._mode_w.value = mode
    for x, k, s in ((LECTURE_POOL_INPUT, 2, 2), (rng.integers(0, 10, (6, 6)), 3, 2), (rng.normal(size=(5, 7)), 2, 1)):
        ex.set_input(x)
        ex._k_w.value, ex._s_w.value = k, s
        x4 = np.asarray(x, float)[None, None]
        dy = rng.normal(size=ex.output.shape)
        ex.set_grad_output(dy)
        if mode == "nmax":
            want = ref.nmax_pool2d(x4, k, 2, stride=s)
            want_dx = ref.nmax_pool2d_backward(dy[None, None], x4, k, 2, stride=s)
        else:
            want, want_dx = FORWARD[mode](x4, k, stride=s), BACKWARD[mode](dy[None, None], x4, k, stride=s)
        np.testing.assert_allclose(ex.output, want[0, 0], atol=1e-12)
        np.testing.assert_allclose(ex.grad_input, want_dx[0, 0], atol=1e-12)
        np.testing.assert_array_equal(ex.grad_output, dy)


def test_pooling_explorer_sources_and_explanation():
    ex = PoolingExplorer()
    assert ex.output.tolist() == [[0.5, 0.6], [0.4, 0.6]]
    ex._col_w.value = 1
    assert ex.sources == [(1, 2)]  # the switch of output (0, 1)
    assert "max(0, 0.2, 0.6, 0) = 0.6" in ex.explanation
    ex.set(mode="avg")
    assert len(ex.sources) == 4 and "/4" in ex.explanation
    ex.set(mode="nmax", n=2)
    assert ex.sources == [(0, 3), (1, 2)]  # 0.2 and 0.6
    assert ex.output[0, 1] == pytest.approx(0.4)
    ex.select(1, 0)  # window 0, 0.4, 0, 0: a tie for second place goes to the first 0
    assert ex.sources == [(2, 0), (2, 1)]


def test_pooling_explorer_invalid_combination_shows_a_message():
    ex = PoolingExplorer(mode="nmax")
    ex._n_w.value = 5  # more than the 4 values of a 2x2 window
    assert "n must be" in ex.message and "5" in ex.message
    assert ex.output.size == 0 and "n must be" in ex._picture.value
    ex._n_w.value = 2
    assert ex.message == ""
    ex._k_w.value = 5  # window larger than the 4x4 input
    assert ex.message and ex.output.size == 0
    ex.set(kernel_size=3, stride=3)
    assert "floored" in ex.message and ex.output.shape == (1, 1)


def test_pooling_explorer_random_input_and_no_mutation():
    x = np.arange(16.0).reshape(4, 4)
    ex = PoolingExplorer(input=x)
    ex.input[0, 0] = -1
    np.testing.assert_array_equal(x, np.arange(16.0).reshape(4, 4))
    ex._input_w.value = "random"
    assert ex.input.shape == (6, 6) and ex.output.shape == (3, 3)


# ---------------------------------------------------------------- static explorer

def test_static_explorer_embeds_its_data():
    e = static_explorer("kernel", inline_js=False, image="digit_4", kernel="gaussian_blur_5x5", padding=2)
    html = e._repr_html_()
    assert html.startswith('<div class="ccnn-explorer" data-kind="kernel" data-config="') and "<script" not in html
    cfg = json.loads(re.search(r'data-config="([^"]*)"', html).group(1).replace("&quot;", '"'))
    assert cfg["image"] == "digit_4" and cfg["kernel"] == "gaussian_blur_5x5" and cfg["size"] == 5 and cfg["padding"] == 2
    np.testing.assert_array_equal(cfg["images"]["photo"]["data"], photo_8bit(64))
    assert np.array(cfg["images"]["digit_4"]["data"]).shape == (28, 28)
    np.testing.assert_array_equal(cfg["kernels"]["sobel_y"]["values"], KERNELS["sobel_y"])
    assert "<script>" in static_explorer("pooling", inline_js=True).html()  # for notebooks


def test_static_explorer_options():
    a = static_explorer("arithmetic", input_size=7, kernel_size=3, stride=3)
    assert a.config == {"n": 7, "f": 3, "p": 0, "s": 3, "d": 1, "transposed": False}
    p = static_explorer("pooling", mode="nmax", kernel_size=3)
    assert (p.config["mode"], p.config["k"], p.config["s"], p.config["n"]) == ("nmax", 3, 3, 2)
    np.testing.assert_array_equal(p.config["inputs"]["lecture"]["data"], LECTURE_POOL_INPUT)
    with pytest.raises(ValueError, match=r"kind must be one of \('kernel', 'arithmetic', 'pooling'\), got 'conv'"):
        static_explorer("conv")
    with pytest.raises(TypeError, match=r"unexpected option\(s\) \['kernel_size'\]"):
        static_explorer("kernel", kernel_size=3)
    with pytest.raises(ValueError, match="stride must be an int from 1 to 4, got 0"):
        static_explorer("arithmetic", stride=0)
    with pytest.raises(ValueError, match="mode must be one of"):
        static_explorer("pooling", mode="median")
    with pytest.raises(ValueError, match="image must be one of"):
        static_explorer("kernel", image="cat")
