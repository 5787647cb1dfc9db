"""Threads: any number of them gives the numbers of one but for the rounding of sums, and
"auto" keeps the count whose steps were faster, probing the other within its budget. The
choices are fed made-up times: no test here times anything."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import dagnet
import dagnet.bench.shapes
from dagnet.engine import threads as threading
from dagnet.engine.threads import ThreadChoice, check_threads

TWO = min(2, numba.config.NUMBA_NUM_THREADS)


@pytest.fixture(scope="module")
def random_dag() -> dagnet.Graph:
    """Big enough that a minibatch of 256 is cut into a block per core."""
    return dagnet.Graph.model_validate(dagnet.bench.shapes.random_dag(3000, seed=4))


def examples(net: dagnet.Network, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((n, len(net.input_ids))),
        rng.standard_normal((n, len(net.output_ids))),
    )


def test_the_blocks_do_not_depend_on_the_threads_that_run_them(random_dag: dagnet.Graph) -> None:
    net = dagnet.Network(random_dag)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        blocks = net.workspace(256, split=True).blocks
    finally:
        numba.set_num_threads(previous)
    assert len(blocks) - 1 == min(numba.config.NUMBA_NUM_THREADS, 3)  # work for three at most
    assert_array_equal(net.workspace(256, split=True).blocks, blocks)


def test_one_thread_and_two_give_the_same_gradients(random_dag: dagnet.Graph) -> None:
    results = []
    for threads in (1, TWO):
        net = dagnet.Network(random_dag, seed=0, threads=threads)
        x, y = examples(net, 256)
        x, y = net.examples(x, y)
        split = net.workspace(256, split=True)
        loss, weight_gradient, bias_gradient = net.loss_and_gradients(x, y, split)
        plain = net.gradients(*examples(net, 256))
        results.append((loss, weight_gradient.copy(), bias_gradient.copy(), plain))
    (loss1, w1, b1, plain1), (loss2, w2, b2, plain2) = results
    # One block against two: the sums over the examples are rounded in another order.
    assert_allclose(w2, w1, rtol=1e-12, atol=1e-15)
    assert_allclose(b2, b1, rtol=1e-12, atol=1e-15)
    assert loss2 == pytest.approx(loss1, rel=1e-12)
    assert_allclose(plain2.weights, plain1.weights, rtol=1e-12, atol=1e-15)
    assert_allclose(w1, plain1.weights, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("threads", [1, TWO, "auto"])
def test_fit_gives_the_same_parameters_on_any_count(
    random_dag: dagnet.Graph, threads: dagnet.engine.threads.Threads
) -> None:
    expected = _fitted(random_dag, 1)
    weights, biases = _fitted(random_dag, threads)
    assert_allclose(weights, expected[0], rtol=1e-12, atol=1e-15)
    assert_allclose(biases, expected[1], rtol=1e-12, atol=1e-15)
    if threads == 1:  # a given count is reproducible bit for bit
        assert_array_equal(weights, expected[0])


def _fitted(graph: dagnet.Graph, threads: threading.Threads) -> tuple[np.ndarray, np.ndarray]:
    net = dagnet.Network(graph, seed=0)
    x, y = examples(net, 600)  # minibatches of 256, 256 and 88
    dagnet.fit(net, x, y, epochs=3, batch_size=256, seed=0, threads=threads)
    return net.weights, net.biases


@pytest.mark.parametrize("batch", [600, 1024])
def test_wide_minibatches_are_taken_in_chunks_that_change_only_the_rounding(
    random_dag: dagnet.Graph, batch: int
) -> None:
    """Past 256 float64 columns a split workspace has a block per chunk, taken in turns in
    one slot per core, and a plain pass chunks its rows: both must give the mean of the
    gradients of pieces of at most 256 examples, each a single chunk."""
    net = dagnet.Network(random_dag, seed=0, threads=1)
    x, y = examples(net, batch)
    split = net.workspace(batch, split=True)
    assert np.diff(split.blocks).max() <= 256 and len(split.blocks) - 1 >= 3
    assert split.state.s.shape[0] == min(len(split.blocks) - 1, numba.config.NUMBA_NUM_THREADS)
    pieces = [(x[start : start + 200], y[start : start + 200]) for start in range(0, batch, 200)]
    weights = sum(len(xp) * net.gradients(xp, yp).weights for xp, yp in pieces) / batch
    biases = sum(len(xp) * net.gradients(xp, yp).biases for xp, yp in pieces) / batch
    loss = sum(len(xp) * net.loss(xp, yp) for xp, yp in pieces) / batch
    plain = net.gradients(x, y)  # (units, batch) state, chunked within its rows
    assert_allclose(plain.weights, weights, rtol=1e-12, atol=1e-15)
    assert_allclose(plain.biases, biases, rtol=1e-12, atol=1e-15)
    for threads in (1, TWO):
        net.threads = threads
        got = net.loss_and_gradients(*net.examples(x, y), split)
        assert got[0] == pytest.approx(loss, rel=1e-12)
        assert_allclose(got[1], weights, rtol=1e-12, atol=1e-15)
        assert_allclose(got[2], biases, rtol=1e-12, atol=1e-15)


@pytest.mark.skipif(TWO < 2, reason="one core: nothing to choose")
def test_auto_remembers_its_choice_for_a_batch_across_workspaces(random_dag: dagnet.Graph) -> None:
    """Each fit makes its own workspaces; short runs would otherwise never finish a probe."""
    net = dagnet.Network(random_dag, seed=0)
    x, y = net.examples(*examples(net, 256))
    for _ in range(4):  # steps on one thread; the first after a change of count is not kept
        net.loss_and_gradients(x, y, net.workspace(256, split=True))
    (choice,) = net._choices.values()
    assert len(choice.recent[1]) == 3


def test_auto_keeps_one_thread_while_the_others_are_slower() -> None:
    choice = ThreadChoice()
    counts = []
    for _ in range(2000):
        threads = choice.threads(2)
        counts.append(threads)
        choice.record(threads, 0.001 if threads == 1 else 0.030)  # a busy neighbour
    assert choice.best == 1
    probed = counts.count(2)
    assert 1 <= probed <= 8
    extra = probed * 0.029
    assert extra <= 1.5 * threading.PROBE_SHARE * (2000 * 0.001) + 3 * 0.029


def test_auto_moves_to_two_threads_when_they_are_faster_and_back_when_a_neighbour_comes() -> None:
    choice = ThreadChoice()
    busy = False
    for step in range(400):
        if step == 200:
            busy = True
        threads = choice.threads(2)
        quiet_time = 0.001 if threads == 1 else 0.0006
        choice.record(threads, quiet_time if not busy or threads == 1 else 0.030)
        if step == 199:
            assert choice.best == 2
    assert choice.best == 1


def test_a_single_core_needs_no_choice() -> None:
    choice = ThreadChoice()
    for _ in range(10):
        choice.record(choice.threads(1), 0.001)
    assert choice.threads(1) == 1 and choice.probes == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "two", None, 10**6])
def test_a_thread_count_must_be_a_whole_number_of_cores_or_auto(bad: object) -> None:
    with pytest.raises(ValueError, match="threads must be a whole number from 1 to"):
        check_threads(bad)
    assert check_threads("auto") == "auto"


def test_a_network_takes_its_thread_count() -> None:
    graph = dagnet.load_graph("graphs/xor.json")
    assert dagnet.Network(graph).threads == "auto"
    net = dagnet.Network(graph, threads=1)
    assert net.threads == 1
    with pytest.raises(ValueError, match="threads must be"):
        dagnet.Network(graph, threads=0)


def test_passes_given_no_workspace_return_arrays_no_later_pass_overwrites() -> None:
    net = dagnet.Network(dagnet.load_graph("graphs/xor.json"), seed=0)
    x = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]])
    _, z = net.evaluate(x)
    kept = z.copy()
    net.evaluate(2 * x)  # the same batch size: the same kept workspace
    net.forward((3 * x).T)
    assert_array_equal(z, kept)
    gradients = net.gradients(x.T, np.zeros((3, 1)))
    weights = gradients.weights.copy()
    net.gradients(2 * x.T, np.ones((3, 1)))
    assert_array_equal(gradients.weights, weights)


def test_a_workspace_keeps_a_compiled_version_per_type_of_the_callers_arrays() -> None:
    net = dagnet.Network(dagnet.load_graph("graphs/xor.json"), seed=0)
    x = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]])
    y = np.array([[0.0, 1.0, 1.0]])
    workspace = net.workspace(3)
    s, z = (a.copy() for a in net.evaluate(x, workspace))
    expected = [a.copy() for a in net.backpropagate(s, z, y, workspace)[1:]]
    wide = np.zeros((1, 6))
    wide[:, ::2] = y  # a view with a stride: another numba type than y's
    for s_, z_, y_ in ((np.asfortranarray(s), np.asfortranarray(z), wide[:, ::2]), (s, z, y)):
        _, weight_gradient, bias_gradient = net.backpropagate(s_, z_, y_, workspace)
        assert_array_equal(weight_gradient, expected[0])
        assert_array_equal(bias_gradient, expected[1])
