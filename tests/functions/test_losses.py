"""The table of losses: each entry's δ is the derivative of its terms with respect to the net
inputs s of its outputs, its compiled signal computes the same numbers as its formulas, its E is
stable where ŷ saturates, and its torch form is its numpy form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from dagnet.functions.activations import ACTIVATIONS, CODES
from dagnet.functions.losses import LOSSES, Head, head_delta, head_probability, head_terms

# What each loss is tried on: the activation of its outputs (squared error on a non-linear one,
# so that f' matters) and targets it accepts.
ACTIVATION = {"squared_error": "tanh", "cross_entropy": "sigmoid",
              "softmax_cross_entropy": "identity"}  # fmt: skip


def _case(name: str, seed: int, k: int = 3, n: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Net inputs s (k, n) and targets y (k, n) that ``name`` accepts."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(-3, 3, (k, n))
    if name == "softmax_cross_entropy":
        y = rng.dirichlet(np.ones(k), n).T  # each example's targets sum to 1
    elif name == "cross_entropy":
        y = rng.uniform(0, 1, (k, n))
    else:
        y = rng.uniform(-2, 2, (k, n))
    return s, y


def _f(name: str, s: np.ndarray) -> np.ndarray:
    return ACTIVATIONS[ACTIVATION[name]].array(s, np)  # type: ignore[no-any-return]


def _slope(name: str, s: np.ndarray) -> np.ndarray:
    entry = ACTIVATIONS[ACTIVATION[name]]
    return entry.array_derivative(s, entry.array(s, np), np) + 0 * s  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", LOSSES)
def test_delta_is_the_derivative_of_the_terms_by_s(name: str) -> None:
    loss = LOSSES[name]
    s, y = _case(name, 1)
    h = 1e-6
    numeric = np.empty_like(s)
    for r in range(s.shape[0]):
        up, down = s.copy(), s.copy()
        up[r] += h
        down[r] -= h
        numeric[r] = (
            loss.terms(up, _f(name, up), y, np).sum(axis=0)
            - loss.terms(down, _f(name, down), y, np).sum(axis=0)
        ) / (2 * h)
    analytic = loss.delta(s, _f(name, s), _slope(name, s), y, np)
    assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", LOSSES)
def test_the_compiled_signal_is_the_formulas(name: str) -> None:
    loss = LOSSES[name]
    k, n = 3, 7
    s_out, y = _case(name, 2, k, n)
    # A state of six units; rows 4, 1 and 5 are the outputs (slots 0, 1, 2), and the head has
    # slots 2 and 0 only, with weight 0.5: the signal writes those rows alone.
    positions = np.array([4, 1, 5])
    s = np.random.default_rng(3).uniform(-1, 1, (6, n))
    s[positions] = s_out
    z = s.copy()
    z[positions] = _f(name, s_out)
    codes = np.full(6, CODES[ACTIVATION[name]], np.int8)
    slots = np.array([2, 0])
    out, by_output = np.full((k, n), 7.0), np.full(k, 7.0)
    total = loss.signal(s, z, codes, positions, slots, y, out, by_output, 0.5)
    rows = [2, 0]
    expected = 0.5 * loss.delta(s_out[rows], z[positions][rows], _slope(name, s_out[rows]),
                                y[rows], np)  # fmt: skip
    assert_allclose(out[rows], expected, rtol=1e-13, atol=1e-15)
    terms = 0.5 * loss.terms(s_out[rows], z[positions][rows], y[rows], np)
    assert_allclose(by_output[rows], terms.sum(axis=1), rtol=1e-13)
    assert math.isclose(total, float(terms.sum()), rel_tol=1e-13)
    assert np.all(out[1] == 7.0) and by_output[1] == 7.0  # not the head's: untouched


def test_cross_entropy_is_stable_where_the_sigmoid_saturates() -> None:
    loss = LOSSES["cross_entropy"]
    s = np.array([[-800.0, -40.0, 0.0, 40.0, 800.0]])
    y_hat = _f("cross_entropy", s)
    y = np.array([[1.0, 0.0, 0.5, 1.0, 0.0]])
    terms = loss.terms(s, y_hat, y, np)
    assert np.all(np.isfinite(terms))
    assert_allclose(terms[0, [0, 4]], 800.0)  # −ln σ(−800) = 800: no log of 0
    assert_allclose(terms[0, 2], math.log(2.0))
    assert_allclose(loss.delta(s, y_hat, _slope("cross_entropy", s), y, np), y_hat - y)


def test_softmax_cross_entropy_is_stable_for_large_logits() -> None:
    loss = LOSSES["softmax_cross_entropy"]
    s = np.array([[1000.0, -1000.0], [999.0, 0.0], [0.0, 1000.0]])
    y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    terms = loss.terms(s, s, y, np)
    assert np.all(np.isfinite(terms))
    assert_allclose(terms.sum(axis=0), [math.log(1 + math.exp(-1)), 0.0], atol=1e-12)
    p = loss.probability(s, s, np)  # type: ignore[misc]
    assert_allclose(p.sum(axis=0), 1.0)


@pytest.mark.parametrize("name", ["cross_entropy", "softmax_cross_entropy"])
def test_terms_from_the_outputs_alone_equal_those_from_s(name: str) -> None:
    # The autograd bridges (torch) know ŷ only; away from saturation both forms agree.
    loss = LOSSES[name]
    s, y = _case(name, 4)
    assert_allclose(loss.terms(None, _f(name, s), y, np), loss.terms(s, _f(name, s), y, np),
                    rtol=1e-12)  # fmt: skip


def test_heads_weigh_and_place_their_losses() -> None:
    s, y = np.array([[0.3], [-1.0], [2.0], [0.5]]), np.array([[0.2], [1.0], [0.0], [0.0]])
    y_hat = s.copy()
    y_hat[0] = 1 / (1 + np.exp(-s[0]))
    heads = (
        Head("p", "cross_entropy", (0,), 2.0),
        Head("class", "softmax_cross_entropy", (1, 2, 3)),
    )
    terms = head_terms(heads, s, y_hat, y, np)
    assert_allclose(terms[0], 2.0 * LOSSES["cross_entropy"].terms(s[:1], y_hat[:1], y[:1], np)[0])
    group = LOSSES["softmax_cross_entropy"].terms(s[1:], s[1:], y[1:], np)
    assert_allclose(terms[1:], group)
    delta = head_delta(heads, s, y_hat, np.ones_like(s), y, np)
    assert_allclose(delta[0], 2.0 * (y_hat[0] - y[0]))
    p = head_probability(heads, s, y_hat, np)
    assert_allclose(p[1:].sum(axis=0), 1.0)
    assert_allclose(p[0], y_hat[0])


@pytest.mark.parametrize("name", LOSSES)
def test_the_torch_forms_are_the_numpy_forms(name: str) -> None:
    torch = pytest.importorskip("torch")
    loss = LOSSES[name]
    s, y = _case(name, 5)
    y_hat = _f(name, s)
    tensors = [torch.tensor(v, dtype=torch.float64) for v in (s, y_hat, y)]
    assert_allclose(loss.terms(*tensors, torch).numpy(), loss.terms(s, y_hat, y, np), rtol=1e-14)
    slope = torch.tensor(_slope(name, s), dtype=torch.float64)
    ours = loss.delta(s, y_hat, _slope(name, s), y, np)
    theirs = loss.delta(tensors[0], tensors[1], slope, tensors[2], torch).numpy()
    assert_allclose(theirs, ours, rtol=1e-14)
