"""The table of losses: each entry's error is the derivative of its terms, and its compiled
signal computes the same numbers as the two formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from dagnet.functions.losses import LOSSES


@pytest.mark.parametrize("name", LOSSES)
def test_error_is_the_derivative_of_the_terms(name: str) -> None:
    loss = LOSSES[name]
    rng = np.random.default_rng(1)
    y_hat, y = rng.uniform(-2, 2, 50), rng.uniform(-2, 2, 50)
    h = 1e-6
    numeric = (loss.terms(y_hat + h, y) - loss.terms(y_hat - h, y)) / (2 * h)
    assert_allclose(loss.error(y_hat, y), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", LOSSES)
def test_the_formulas_serve_numbers_as_well_as_arrays(name: str) -> None:
    # The reference engine calls them with single numbers.
    loss = LOSSES[name]
    assert math.isclose(float(loss.terms(0.3, -0.2)), float(loss.terms(np.array([0.3]), -0.2)[0]))
    assert math.isclose(float(loss.error(0.3, -0.2)), float(loss.error(np.array([0.3]), -0.2)[0]))


@pytest.mark.parametrize("name", LOSSES)
def test_the_compiled_signal_is_the_formulas(name: str) -> None:
    loss = LOSSES[name]
    rng = np.random.default_rng(2)
    z = rng.uniform(-2, 2, (5, 7))  # a state of five units; rows 1 and 4 are the outputs
    outputs = np.array([4, 1])
    y = rng.uniform(-2, 2, (2, 7))
    out, by_output = np.empty((2, 7)), np.empty(2)
    total = loss.signal(z, outputs, y, out, by_output)
    assert_allclose(out, loss.error(z[outputs], y), rtol=1e-14)
    assert_allclose(by_output, loss.terms(z[outputs], y).sum(axis=1), rtol=1e-13)
    assert math.isclose(total, float(by_output.sum()), rel_tol=1e-14)
