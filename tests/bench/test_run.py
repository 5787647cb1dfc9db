"""A ``dagnet bench`` run short of timing it: the engines it builds, dagnet's own step, and the
results as rows and as the table. Nothing here asserts a speed."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dagnet
from dagnet.bench import rivals, run
from dagnet.bench.shapes import SHAPES
from dagnet.bench.timing import Engine
from tests.conftest import GRAPHS


def test_the_dagnet_step_is_one_step_of_fit() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"), seed=1)
    x, y = run.minibatch(net, 8, seed=0)
    assert x.shape == (net.plan.n_inputs, 8) and y.shape == (len(net.output_ids), 8)
    copy = dagnet.Network(net.to_graph())
    dagnet.fit(copy, x.T, y.T, epochs=1, learning_rate=run.LEARNING_RATE, batch_size=8,
               shuffle=False)  # fmt: skip
    run.dagnet_step(net, x, y, threads=1)()
    assert_allclose(net.weight, copy.weight, rtol=1e-12, atol=1e-12)
    assert_allclose(net.bias, copy.bias, rtol=1e-12, atol=1e-12)


def test_engines_are_dagnet_alone_unless_compared() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"))
    x, y = run.minibatch(net, 4, seed=0)
    assert [e.name for e in run.engines(net, x, y, threads=1, compare=False)] == [
        "dagnet, 1 thread"
    ]
    names = [e.name for e in run.engines(net, x, y, threads=2, compare=True)]
    torch = [
        "torch, index_add per level", "torch, masked matmul per level",
        "torch, sparse CSR per level",
    ]  # fmt: skip
    scipy = ["scipy, sparse CSR per level"]
    expected = ["dagnet, 2 threads", "dagnet, 1 thread", "reference (per unit, Python)"]
    expected += torch if rivals.torch_available() else []
    assert names == expected + (scipy if rivals.scipy_available() else [])  # xor is no MLP


def test_an_mlp_is_also_compared_with_numpy_matmul() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate(SHAPES["mlp"](1000, 0)))
    x, y = run.minibatch(net, 4, seed=0)
    timed = run.engines(net, x, y, threads=1, compare=True)
    assert timed[-1].name == "numpy matmul (MLP)" and timed[-1].cooldown == run.POOL_COOLDOWN


def timed(name: str, *seconds: float) -> Engine:
    return Engine(name, lambda: None, seconds=list(seconds))


def test_results_rate_every_engine_against_the_first() -> None:
    rows = run.results([timed("dagnet", 0.02, 0.01, 0.03), timed("slow", 2.0)], 1_000_000)
    assert rows == [
        {"engine": "dagnet", "median_seconds": 0.02, "edge_examples_per_second": 5e7,
         "steps": 3, "dagnet_speedup": 1.0},
        {"engine": "slow", "median_seconds": 2.0, "edge_examples_per_second": 5e5,
         "steps": 1, "dagnet_speedup": 100.0},
    ]  # fmt: skip


def test_the_table_aligns_the_engines_and_rounds_large_speedups() -> None:
    rows = run.results([timed("dagnet", 2e-5), timed("a longer name", 0.0015)], 10_000)
    assert run.table(rows).splitlines() == [
        "engine          median step   M edge-ex/s  steps  dagnet ×",
        "dagnet              20.0 µs         500.0      1  1.0",
        "a longer name       1.50 ms           6.7      1  75.0",
        "best rival: a longer name, 1.50 ms; dagnet 75.0× faster",
    ]
    rows = run.results([timed("dagnet", 1e-4), timed("reference", 1.25)], 10_000)
    assert run.table(rows).splitlines()[2:] == [
        "reference        1.25 s           0.0      1  12,500",
        "best rival: reference, 1.25 s; dagnet 12,500× faster",
    ]


def test_the_best_rival_is_the_fastest_engine_that_is_not_dagnet() -> None:
    rows = run.results(
        [timed("dagnet, 2 threads", 1.0), timed("dagnet, 1 thread", 1.5), timed("torch", 9.0),
         timed("scipy", 4.0)], 1000,
    )  # fmt: skip
    assert run.best_rival(rows) == rows[3]
    assert run.best_rival(rows[:2]) is None
    assert "best rival" not in run.table(rows[:1])


@pytest.mark.parametrize(
    ("seconds", "text"), [(12.0, "12.00 s"), (1.0, "1.00 s"), (0.001, "1.00 ms"), (5e-7, "0.5 µs")]
)
def test_durations_are_in_seconds_milliseconds_or_microseconds(seconds: float, text: str) -> None:
    assert run.duration(seconds) == text


def test_graph_facts_count_units_edges_and_levels() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"))
    assert run.graph_facts(net) == {"units": 5, "edges": 9, "inputs": 2, "outputs": 1, "levels": 3}
    assert np.all(run.minibatch(net, 3, seed=5)[0] == run.minibatch(net, 3, seed=5)[0])
