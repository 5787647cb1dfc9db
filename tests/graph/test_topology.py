"""The array algorithms agree with networkx: the same lexicographic topological order, the same
verdict on cycles, the same reachable sets, on random directed graphs with and without cycles."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dagnet.graph import topology

examples = settings(max_examples=300, deadline=None, derandomize=True, database=None)


@st.composite
def edge_lists(draw: st.DrawFn, acyclic: bool) -> tuple[int, np.ndarray, np.ndarray]:
    """``n`` units and edges between them (no self-loops); forward-only when ``acyclic``."""
    n = draw(st.integers(1, 25))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1])
    edges = draw(st.lists(pairs, max_size=60, unique=True))
    if acyclic:  # a random numbering, then every edge from the lower number to the higher
        rank = draw(st.permutations(range(n)))
        edges = [(a, b) if rank[a] < rank[b] else (b, a) for a, b in edges]
        edges = list(dict.fromkeys(edges))
    source = np.array([a for a, _ in edges], dtype=np.int64)
    target = np.array([b for _, b in edges], dtype=np.int64)
    return n, source, target


def _digraph(n: int, source: np.ndarray, target: np.ndarray) -> nx.DiGraph:
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(n))
    digraph.add_edges_from(zip(source.tolist(), target.tolist(), strict=True))
    return digraph


@examples
@given(edge_lists(acyclic=True))
def test_the_order_is_networkx_lexicographical_topological_sort(case) -> None:
    n, source, target = case
    expected = list(nx.lexicographical_topological_sort(_digraph(n, source, target)))
    assert topology.lexicographic_order(n, source, target).tolist() == expected


@examples
@given(st.booleans().flatmap(lambda acyclic: edge_lists(acyclic)))
def test_the_order_is_short_exactly_when_there_is_a_cycle(case) -> None:
    n, source, target = case
    order = topology.lexicographic_order(n, source, target)
    digraph = _digraph(n, source, target)
    assert (len(order) == n) == nx.is_directed_acyclic_graph(digraph)
    on_cycles = {u for c in nx.strongly_connected_components(digraph) if len(c) > 1 for u in c}
    assert not on_cycles & set(order.tolist())
    assert len(set(order.tolist())) == len(order)


@examples
@given(st.booleans().flatmap(lambda acyclic: edge_lists(acyclic)), st.data())
def test_reachable_is_the_starts_and_their_descendants(case, data: st.DataObject) -> None:
    n, source, target = case
    starts = data.draw(st.lists(st.integers(0, n - 1), max_size=4))
    digraph = _digraph(n, source, target)
    expected = set(starts).union(*(nx.descendants(digraph, s) for s in starts))
    seen = topology.reachable(n, source, target, np.array(starts, dtype=np.int64))
    assert set(np.flatnonzero(seen).tolist()) == expected
