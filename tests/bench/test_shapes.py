"""The generated shapes of ``dagnet bench``: clean graphs, of about the size asked, seeded."""

from __future__ import annotations

import pytest

import dagnet
from dagnet.bench import rivals
from dagnet.bench.shapes import BYTES_PER_EDGE, MAX_EDGES, SHAPES, largest, random_minimum
from dagnet.graph.checks import check


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("edges", [500, 5000])
def test_every_shape_is_a_clean_graph_of_about_the_size_asked(shape: str, edges: int) -> None:
    graph = dagnet.Graph.model_validate(SHAPES[shape](edges, 3))
    assert check(graph) == []  # no errors, and no dead units to warn about
    net = dagnet.Network(graph)
    if shape in ("random", "deep"):
        assert len(graph.edges) == pytest.approx(edges, rel=0.02, abs=100)
    assert SHAPES[shape](edges, 3) == SHAPES[shape](edges, 3)  # seeded
    if shape == "mlp":
        assert len(rivals.dense_layers(net)) >= 2  # hidden layers and the outputs


def test_the_random_shape_keeps_its_depth_and_exact_size() -> None:
    graph = dagnet.Graph.model_validate(SHAPES["random"](120_000))
    assert len(graph.edges) == 120_000
    assert dagnet.Network(graph).plan.levels().max() == 57


def test_the_deep_shape_is_a_thousand_levels_at_12k_edges() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate(SHAPES["deep"](12_000)))
    assert net.plan.levels().max() == 1000
    assert net.plan.n_edges == 12_000


# Sizes the random DAG's levels can barely hold, or that are below its chain: each must return


@pytest.mark.parametrize("edges", [1, 2, 79, 80, 81, 100, 1500, 1780, 2000, 2500, 7000, 14_000])
def test_the_random_shape_returns_at_small_and_awkward_sizes(edges: int) -> None:
    document = SHAPES["random"](edges, 1)
    assert len(document["edges"]) == max(edges, random_minimum())
    graph = dagnet.Graph.model_validate(document)
    assert check(graph) == []


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_returns_at_one_edge(shape: str) -> None:
    assert check(dagnet.Graph.model_validate(SHAPES[shape](1, 0))) == []


def test_the_largest_size_is_what_fits_in_memory() -> None:
    assert largest(10**15) == MAX_EDGES
    assert largest(100 * BYTES_PER_EDGE) == 100
    assert largest(0) == 0
