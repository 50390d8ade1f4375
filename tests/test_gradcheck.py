import numpy as np
import pytest

from coursecnn.ref import numerical_gradient, relative_error


def test_numerical_gradient_of_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    kept = x.copy()
    g = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    exact = np.cos(x) * x + np.sin(x)
    assert relative_error(g, exact) < 1e-7
    assert np.array_equal(x, kept)


def test_centered_beats_one_sided():
    x = np.array([1.0])
    f = lambda v: float(np.exp(v[0]))  # noqa: E731
    centered = numerical_gradient(f, x, eps=1e-4)[0]
    one_sided = (np.exp(1 + 1e-4) - np.exp(1)) / 1e-4
    assert abs(centered - np.e) < abs(one_sided - np.e) / 100


def test_integer_input_is_promoted():
    g = numerical_gradient(lambda v: (v**2).sum(), np.array([1, 2, 3]))
    assert g.dtype == np.float64
    assert np.allclose(g, [2, 4, 6])


def test_relative_error_values():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert 1e-4 < relative_error([1.0], [1.001]) < 1e-3


def test_norm_form_ignores_tiny_entries_but_elementwise_does_not():
    exact = np.array([1.0, 1e-12])
    estimate = np.array([1.0, 1e-12 + 1e-10])
    assert relative_error(exact, estimate) < 1e-9
    assert relative_error(exact, estimate, elementwise=True) > 0.9
    assert relative_error([0.0, 2.0], [0.0, 2.0], elementwise=True) == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: numerical_gradient(lambda v: v, np.ones(3)), "must return a scalar"),
        (lambda: numerical_gradient(lambda v: v.sum(), np.ones(3), eps=0), "eps must be a positive"),
        (lambda: numerical_gradient(3, np.ones(3)), "f must be a function"),
        (lambda: relative_error(np.ones(2), np.ones(3)), "same shape"),
    ],
)
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_string_input_rejected():
    with pytest.raises(TypeError, match="real numeric"):
        numerical_gradient(lambda v: 0.0, np.array(["a"]))
