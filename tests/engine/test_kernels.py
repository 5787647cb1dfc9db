"""The kernels' batch split and precision: any cut of a minibatch into column blocks, run on any
number of threads, and float32 state all give the gradients of one float64 block."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dagnet
import dagnet.bench.shapes
from dagnet.engine import workspace as workspaces
from dagnet.engine.network import unit_major
from tests.conftest import GRAPHS, state_and_gradients
from tests.strategies import SMOOTH_ACTIVATIONS, batches, graphs

examples = settings(max_examples=40, deadline=None, derandomize=True, database=None)


@given(batch=st.integers(1, 2000), threads=st.integers(1, 8), min_columns=st.integers(1, 64))
def test_column_blocks_cover_the_batch_once_in_aligned_blocks(
    batch: int, threads: int, min_columns: int
) -> None:
    bounds = workspaces.column_blocks(batch, threads, min_columns)
    assert bounds[0] == 0 and bounds[-1] == batch
    assert np.all(np.diff(bounds) > 0)
    assert 1 <= len(bounds) - 1 <= threads
    assert np.all(bounds[1:-1] % workspaces.BLOCK_ALIGNMENT == 0)
    if len(bounds) > 2:
        assert batch // (len(bounds) - 1) >= min_columns


@examples
@given(data=st.data(), graph=graphs())
def test_any_cut_of_the_batch_gives_the_same_state_and_gradients(
    data: st.DataObject, graph: dagnet.Graph
) -> None:
    net = dagnet.Network(graph, seed=1)
    x, y = data.draw(batches(graph, min_examples=2, max_examples=40))
    x, y = unit_major(x, net.input_ids, "x"), unit_major(y, net.output_ids, "y")
    batch = x.shape[1]
    cuts = data.draw(st.sets(st.integers(1, batch - 1), max_size=4), label="cuts")
    bounds = np.array([0, *sorted(cuts), batch], dtype=np.int64)
    whole = state_and_gradients(net, x, y, np.array([0, batch]))
    for one, blocked in zip(whole, state_and_gradients(net, x, y, bounds), strict=True):
        assert_allclose(blocked, one, rtol=1e-12, atol=1e-14)


@examples
@given(data=st.data(), graph=graphs(), width=st.integers(1, 9))
def test_outputs_in_passes_of_a_few_columns_are_those_of_one_pass(
    data: st.DataObject, graph: dagnet.Graph, width: int
) -> None:
    net = dagnet.Network(graph, seed=2)
    x, _ = data.draw(batches(graph, min_examples=1, max_examples=30))
    x = unit_major(x, net.input_ids, "x")
    s, z = net.evaluate(x)
    outputs = net.plan.output_positions
    # The last pass may be shorter; a pass of one example sums in another order.
    s_out, z_out = net.outputs(x, width)
    assert_allclose(s_out, s[outputs], rtol=1e-12, atol=1e-14)
    assert_allclose(z_out, z[outputs], rtol=1e-12, atol=1e-14)
    none, z_alone = net.outputs(x, width, with_s=False)  # (keeping each s_j in one row)
    assert none.shape == (0, x.shape[1])
    assert_allclose(z_alone, z[outputs], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("with_s", [True, False])
def test_outputs_of_dense_blocks_in_passes_are_those_of_one_pass(with_s: bool) -> None:
    graph = dagnet.Graph.model_validate(dagnet.bench.shapes.mlp(20_000))
    net = dagnet.Network(graph, seed=3)
    assert len(net.plan.dense.sources) > 0
    x = np.random.default_rng(1).standard_normal((len(net.input_ids), 70))
    s, z = net.evaluate(x)
    s_out, z_out = net.outputs(x, 32, with_s=with_s)
    outputs = net.plan.output_positions
    assert_allclose(z_out, z[outputs], rtol=1e-12, atol=1e-14)
    if with_s:
        assert_allclose(s_out, s[outputs], rtol=1e-12, atol=1e-14)


def test_outputs_refuse_inputs_of_another_precision() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"))
    with pytest.raises(dagnet.ArgumentError, match="float64"):
        net.outputs(np.zeros((2, 3), np.float32), 2)


def test_two_threads_give_the_gradients_of_one() -> None:
    graph = dagnet.Graph.model_validate(dagnet.bench.shapes.random_dag(3000, seed=4))
    net = dagnet.Network(graph)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, len(net.input_ids)))
    y = rng.standard_normal((256, len(net.output_ids)))
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = net.gradients(x, y)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = net.gradients(x, y)
    finally:
        numba.set_num_threads(previous)
    assert_allclose(two.weights, one.weights, rtol=1e-12, atol=1e-14)
    assert_allclose(two.biases, one.biases, rtol=1e-12, atol=1e-14)
    assert two.loss == pytest.approx(one.loss, rel=1e-14)


@examples
@given(data=st.data(), graph=graphs(), threads=st.integers(1, 4), narrow=st.booleans())
def test_a_workspace_split_by_block_gives_the_loss_and_gradients_of_one_block(
    data: st.DataObject, graph: dagnet.Graph, threads: int, narrow: bool
) -> None:
    # Several threads, so that the split kernels run (one thread takes the batch as one block),
    # or blocks narrowed to the cache, which one thread runs one by one, in out-edge order.
    net = dagnet.Network(graph, seed=1, threads=min(threads, numba.config.NUMBA_NUM_THREADS))
    batch = data.draw(st.integers(1, 200), label="batch")
    x, y = data.draw(batches(graph, min_examples=batch, max_examples=batch))
    x, y = unit_major(x, net.input_ids, "x"), unit_major(y, net.output_ids, "y")
    with pytest.MonkeyPatch.context() as patch:  # small graphs are split too
        patch.setattr(workspaces, "MIN_BLOCK_WORK", 1)
        if narrow:  # as if the graph were too large for the cache: blocks of 16 columns
            patch.setattr(workspaces, "CACHE_BYTES", 1)
        split = net.workspace(batch, threads, split=True)
    assert split.state.s.ndim == (3 if len(split.blocks) > 2 else 2)
    by_out_edge = narrow and batch > 16 and len(net.plan.dense.targets) == 0
    assert (split.out_weight is not None) == by_out_edge
    if by_out_edge:  # (a plan with dense blocks keeps its blocks: see make_workspace)
        assert int(np.diff(split.blocks).max()) <= 16
    for array in split.state:  # nothing may be read before the pass writes it
        array.fill(np.nan)
    loss, weight_gradient, bias_gradient = net.loss_and_gradients(x, y, split)
    whole = net.workspace(batch, 1)
    expected = net.backpropagate(*net.evaluate(x, whole), y, whole)
    # (A subnormal input to neat_inv overflows: then both losses are NaN, as they should be.)
    assert loss == pytest.approx(expected[0], rel=1e-12, abs=1e-300, nan_ok=True)
    assert_allclose(weight_gradient, expected[1], rtol=1e-12, atol=1e-14)
    assert_allclose(bias_gradient, expected[2], rtol=1e-12, atol=1e-14)
    assert_allclose(split.output_loss, whole.output_loss, rtol=1e-12, atol=1e-300)


def test_a_split_workspace_is_for_loss_and_gradients_only() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate(dagnet.bench.shapes.random_dag(3000)))
    split = net.workspace(256, 2, split=True)
    with pytest.raises(ValueError, match="loss_and_gradients"):
        net.evaluate(np.zeros((net.plan.n_inputs, 256)), split)


@examples
@given(data=st.data(), graph=graphs(SMOOTH_ACTIVATIONS))
def test_float32_follows_float64_to_single_precision(
    data: st.DataObject, graph: dagnet.Graph
) -> None:
    x, y = data.draw(batches(graph))
    double = dagnet.Network(graph, seed=3)
    single = dagnet.Network(graph, seed=3, dtype=np.float32)
    assert single.weight.dtype == single.bias.dtype == np.float32
    assert_array_equal(single.weights, double.weights.astype(np.float32))
    forward = single.forward(x)
    assert forward.dtype == np.float64
    assert_allclose(forward, double.forward(x), rtol=1e-4, atol=1e-4)
    expected, got = double.gradients(x, y), single.gradients(x, y)
    scale = max(1.0, float(np.abs(expected.weights).max(initial=0)))
    assert_allclose(got.weights, expected.weights, rtol=1e-3, atol=1e-4 * scale)
    assert_allclose(got.biases, expected.biases, rtol=1e-3, atol=1e-4 * scale)


def test_float32_trains_the_example_like_float64() -> None:
    graph = dagnet.load_graph(GRAPHS / "multiple_inputs.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    losses = {}
    for dtype in (np.float64, np.float32):
        net = dagnet.Network(graph, dtype=dtype)
        history = dagnet.fit(net, data.inputs, data.targets, epochs=200, learning_rate=0.1, seed=0)
        losses[dtype] = history.final_loss
    assert losses[np.float32] == pytest.approx(losses[np.float64], rel=1e-2, abs=1e-5)


def test_an_unsupported_dtype_is_refused() -> None:
    graph = dagnet.load_graph(GRAPHS / "one_path.json")
    with pytest.raises(ValueError, match="float64 or float32"):
        dagnet.Network(graph, dtype=np.float16)


def test_threads_get_blocks_only_when_there_is_work_for_them() -> None:
    small = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"))
    assert len(small.workspace(256, 2).blocks) == 2  # one block: five units are no work
    deep = dagnet.Network(dagnet.Graph.model_validate(dagnet.bench.shapes.SHAPES["deep"](12_000)))
    assert deep.workspace(32, 2, split=True).blocks.tolist() == [0, 16, 32]
    assert deep.workspace(32, 2).blocks.tolist() == [0, 32]  # shared rows: no 16-column blocks
    assert deep.workspace(32, 2, split=True).state.s.shape == (2, deep.plan.n_units, 16)


def test_blocks_are_narrowed_to_the_cache_only_past_8192_units() -> None:
    # (cached_columns reads the plan's size only)
    def columns(units: int, dtype: type = np.float64) -> int:
        plan = SimpleNamespace(n_units=units)
        return workspaces.cached_columns(plan, np.dtype(dtype))  # type: ignore[arg-type]

    assert columns(8192) == 256 and columns(8192, np.float32) == 512  # a chunk: not narrowed
    assert columns(8193) == 240
    assert columns(62_564) == 32 and columns(62_564, np.float32) == 64  # 5M edges
    assert columns(10**7) == workspaces.MIN_SPLIT_COLUMNS


def test_borrowed_state_is_the_borrowers_alone_and_reused_after() -> None:
    float64 = np.dtype(np.float64)
    with workspaces.borrowed((3, 5), float64) as first:
        first[:] = 1.0
        with workspaces.borrowed((3, 5), float64) as second:  # while the first is in use
            assert not np.shares_memory(first, second)
            second[:] = 2.0
        assert np.all(first == 1.0)
        kept = first.base
    with workspaces.borrowed((2, 4), float64) as again:  # the memory given back, reused
        assert np.shares_memory(again, kept) or np.shares_memory(again, second)
    with workspaces.borrowed((1, workspaces.SPARE_BYTES // 8 + 1), float64):
        pass  # too large to keep: the spare memory stays within its bound
    assert sum(spare.nbytes for spare in workspaces._spare_memory) <= workspaces.SPARE_BYTES


def test_passes_on_borrowed_state_in_threads_at_once_give_one_threads_outputs() -> None:
    graph = dagnet.Graph.model_validate(dagnet.bench.shapes.random_dag(3000, seed=5))
    net = dagnet.Network(graph, seed=1)
    x = np.random.default_rng(2).standard_normal((len(net.input_ids), 300))
    _, expected = net.outputs(x, 64, with_s=False)
    found: list[np.ndarray] = []

    def work() -> None:
        for _ in range(5):
            found.append(net.outputs(x, 64, with_s=False)[1])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 20 and all(np.array_equal(z, expected) for z in found)
