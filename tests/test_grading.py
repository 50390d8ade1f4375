"""coursecnn.grading: the checks exercise test cells use, and the feedback they give."""

import doctest
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from coursecnn import grading
from coursecnn.grading import check_close, check_equal, check_raises, check_scalar, check_shape, check_type


def fails(match):
    return pytest.raises(AssertionError, match=re.escape(match))


def test_docstring_examples_hold():
    result = doctest.testmod(grading)
    assert result.attempted >= 12 and result.failed == 0


# --- check_shape -------------------------------------------------------------------------


def test_check_shape_message_names_both_shapes_and_the_hint():
    with pytest.raises(AssertionError) as info:
        check_shape(np.zeros((1, 6, 27, 27)), (1, 6, 28, 28), hint="check the output-size formula")
    assert str(info.value) == (
        "your output has shape (1, 6, 27, 27); expected (1, 6, 28, 28): check the output-size formula"
    )


def test_check_shape_accepts_tensors_shapes_lists_and_reference_arrays():
    check_shape(torch.zeros(2, 3), (2, 3))
    check_shape(torch.zeros(2, 3).shape, (2, 3))
    check_shape([[1, 2, 3], [4, 5, 6]], np.ones((2, 3)))
    check_shape((4, 5), [4, 5])
    with fails("the pooled map has shape (2, 3); expected (3, 2)"):
        check_shape(torch.zeros(2, 3), np.ones((3, 2)), what="the pooled map")


def test_check_shape_none_says_return():
    with fails("your output is None; expected an array of shape (3,) (did you forget to return it?)"):
        check_shape(None, (3,))


def test_check_shape_rank_difference():
    with fails("has shape (28, 28); expected (1, 1, 28, 28)"):
        check_shape(np.zeros((28, 28)), (1, 1, 28, 28))


def test_check_shape_rejects_non_arrays_and_bad_expected():
    with fails("your output is a str, not an array of numbers"):
        check_shape("abc", (3,))
    with pytest.raises(TypeError, match="expected must be a tuple of ints"):
        check_shape(np.zeros(3), "3")


# --- check_close -------------------------------------------------------------------------


def test_check_close_reports_count_max_error_and_first_index():
    expected = np.arange(12.0).reshape(3, 4)
    actual = expected.copy()
    actual[1, 2] += 0.25
    actual[2, 3] -= 1.5
    with pytest.raises(AssertionError) as info:
        check_close(actual, expected, what="your convolution", hint="is the kernel flipped?")
    msg = str(info.value)
    assert msg.startswith("your convolution differs from the expected values at 2 of 12 entries")
    assert "(max abs error 1.5)" in msg
    assert "first at index [1, 2]: got 0.25 too much (6.25, expected 6)" in msg
    assert msg.endswith(": is the kernel flipped?")


def test_check_close_tolerances_follow_allclose():
    expected = np.array([1.0, 1000.0])
    check_close(expected * (1 + 5e-7), expected)  # within rtol=1e-6
    with fails("1 of 2 entries"):
        check_close(expected + np.array([0, 2e-3]), expected)
    check_close(expected + np.array([0, 2e-3]), expected, rtol=1e-5)
    check_close([0.0], [1e-9])  # within atol
    with fails("got 1e-07 too little"):
        check_close([0.0], [1e-7])


def test_check_close_shape_mismatch_comes_first():
    with fails("your output has shape (2, 2); expected (2, 3)"):
        check_close(np.zeros((2, 2)), np.zeros((2, 3)))


def test_check_close_nan_and_inf():
    with fails("your output contains nan at index [1] (1 non-finite entries) where 2 is expected"):
        check_close([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    with fails("contains inf"):
        check_close([np.inf], [0.0])
    check_close([np.inf, -np.inf, 1.0], [np.inf, -np.inf, 1.0])
    with fails("1 of 2 entries"):
        check_close([np.inf, -np.inf], [np.inf, np.inf])


def test_check_close_tensors_on_any_dtype_and_scalars():
    check_close(torch.ones(2, requires_grad=True) * 2, np.array([2.0, 2.0]))
    check_close(np.float32(0.1), 0.1)
    check_close(torch.tensor([0.5, 2.0], dtype=torch.bfloat16), [0.5, 2.0])
    with fails("max abs error 0.5"):
        check_close(torch.nn.Parameter(torch.tensor([1.0, 2.0])), [1.0, 2.5])
    with fails("your output is 0.5; expected 0.25 (abs error 0.25)"):
        check_close(0.5, 0.25)


def test_check_close_none_and_bad_arguments():
    with fails("your output is None; expected an array of shape (2,)"):
        check_close(None, [1.0, 2.0])
    with fails("your output is a list that cannot be read as an array of numbers"):
        check_close([[1.0], [1.0, 2.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="rtol=-1"):
        check_close([1.0], [1.0], rtol=-1)


def test_check_close_does_not_modify_arguments():
    a = np.array([[1.0, np.nan]])
    e = np.array([[1.0, 2.0]])
    a0, e0 = a.copy(), e.copy()
    with pytest.raises(AssertionError):
        check_close(a, e)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(e, e0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8), st.data())
def test_check_close_agrees_with_numpy_allclose(values, data):
    expected = np.array(values)
    noise = np.array(data.draw(st.lists(st.floats(-1e-3, 1e-3), min_size=len(values), max_size=len(values))))
    actual = expected + noise
    if np.allclose(actual, expected, rtol=1e-6, atol=1e-8):
        check_close(actual, expected)
    else:
        with pytest.raises(AssertionError):
            check_close(actual, expected)


# --- check_type, check_scalar, check_equal, check_raises ---------------------------------


def test_check_type():
    check_type(np.zeros(2), np.ndarray)
    check_type(3, (int, float))
    with fails("your output is a list; expected a numpy.ndarray: convert with np.asarray"):
        check_type([1], np.ndarray, hint="convert with np.asarray")
    with fails("your model is None; expected an int or float"):
        check_type(None, (int, float), what="your model")
    with fails("is a numpy.ndarray; expected a torch.Tensor"):
        check_type(np.zeros(2), torch.Tensor)
    with pytest.raises(TypeError, match="expected_type"):
        check_type(1, "int")


def test_check_scalar_ints_are_exact_floats_tolerant():
    check_scalar(28, 28)
    check_scalar(np.int64(28), 28)
    check_scalar(28.0, 28)
    check_scalar(0.1 + 0.2, 0.3)
    check_scalar(torch.tensor(0.5), 0.5)
    check_scalar(np.array([[2.0]]), 2.0)
    with fails("the output size is 27; expected 28: did you add 1?"):
        check_scalar(27, 28, what="the output size", hint="did you add 1?")
    with fails("your answer is 0.31; expected 0.3 (abs error 0.01)"):
        check_scalar(0.31, 0.3)
    with fails("your answer is nan; expected 0.3"):
        check_scalar(float("nan"), 0.3)


def test_check_scalar_rejects_non_numbers():
    with fails("your answer is a str ('28'); expected a number"):
        check_scalar("28", 28)
    with fails("your answer is a bool"):
        check_scalar(True, 1)
    with fails("your answer has shape (2,); expected a single number"):
        check_scalar(np.array([1.0, 2.0]), 1.0)
    with fails("your answer is None"):
        check_scalar(None, 1)
    with pytest.raises(TypeError, match="expected must be a real number"):
        check_scalar(1, "1")


def test_check_equal():
    check_equal((2, 2), (2, 2))
    check_equal("relu", "relu")
    check_equal(np.array([1, 2]), np.array([1, 2]))
    with fails("the pooled size is (3, 3); expected (2, 2)"):
        check_equal((3, 3), (2, 2), what="the pooled size")
    with fails("your answer differs at 1 of 3 entries; first at index [2]: got 4, expected 3"):
        check_equal([1, 2, 4], np.array([1, 2, 3]))
    with fails("has shape (2,); expected (3,)"):
        check_equal(torch.tensor([1, 2]), np.array([1, 2, 3]))
    with fails("your answer is a numpy.ndarray of shape (2,); expected (1, 2)"):
        check_equal(np.array([1, 2]), (1, 2))


def test_check_raises():
    def size(n):
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        return n

    check_raises(size, ValueError, -1)
    check_raises(size, (TypeError, ValueError), -1, match="got -1")
    with fails("size(3) returned 3; expected it to raise ValueError"):
        check_raises(size, ValueError, 3)
    with fails("which does not mention 'positive'"):
        check_raises(size, ValueError, -1, match="positive")
    with fails("size(n='a') raised TypeError("):
        check_raises(size, ValueError, n="a")
    with pytest.raises(TypeError, match="exception type"):
        check_raises(size, "ValueError", 1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_checks_accept_cuda_tensors():
    x = torch.arange(6.0, device="cuda").reshape(2, 3)
    check_shape(x, (2, 3))
    check_close(x * 1, np.arange(6.0).reshape(2, 3))
    check_scalar(x.sum(), 15.0)
    with fails("first at index [1, 2]"):
        check_close(x, np.array([[0.0, 1, 2], [3, 4, 6]]))
