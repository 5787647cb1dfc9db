"""The edges' fast path: what it reads from a file's list of edge objects is what Pydantic's
validation of ``list[Edge]`` reads, and it declines everything Pydantic refuses; and edges given
by number are checked as the same edges given by name."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from dagnet.graph.checks import examine
from dagnet.graph.model import Edge, Edges, Graph, _edge_columns

ENDS = st.one_of(
    st.sampled_from(["a", "b", "h1", "x.2", "_y-3"]),
    st.sampled_from(["", "1a", "a b", "é"]),  # not unit ids
    st.integers(-2, 2), st.none(), st.booleans(), st.lists(st.just("a"), max_size=1),
)  # fmt: skip
WEIGHTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400),
    st.none(), st.booleans(), st.just("0.5"),
)  # fmt: skip


@st.composite
def edge_objects(draw: st.DrawFn, odd: bool) -> Any:
    """A JSON edge object; with ``odd``, also any of the ways a file gets one wrong."""
    ends = ENDS if odd else st.sampled_from(["a", "b", "h1", "x.2", "_y-3"])
    edge: dict[str, Any] = {"source": draw(ends), "target": draw(ends)}
    if draw(st.booleans()):
        edge["weight"] = draw(WEIGHTS) if odd else draw(st.floats(-1e3, 1e3) | st.integers(-9, 9))
    if draw(st.booleans()):
        edge["trainable"] = draw(st.booleans() | (st.integers(0, 1) if odd else st.nothing()))
    if odd and draw(st.integers(0, 9)) == 0:
        del edge[draw(st.sampled_from(sorted(edge)))]
    if odd and draw(st.integers(0, 9)) == 0:
        edge[draw(st.sampled_from(["weigth", "note"]))] = 1
    return edge if not odd or draw(st.integers(0, 19)) else draw(st.sampled_from([[], "e", 1]))


def pydantic_edges(items: list[Any]) -> Edges | None:
    try:
        return Edges.of(TypeAdapter(list[Edge]).validate_python(items))
    except ValidationError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(edge_objects(odd=True), max_size=6))
def test_the_fast_path_reads_what_pydantic_reads_or_declines(items: list[Any]) -> None:
    columns = _edge_columns(copy.deepcopy(items))
    expected = pydantic_edges(items)
    if columns is not None:
        assert expected is not None, "the fast path took what Pydantic refuses"
        assert Edges(*columns) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(edge_objects(odd=False), min_size=1, max_size=6))
def test_the_fast_path_takes_every_well_formed_list(items: list[Any]) -> None:
    columns = _edge_columns(items)
    assert columns is not None
    assert Edges(*columns) == pydantic_edges(items)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.sampled_from(["x", "h", "y", "z", "x"])] * 2), max_size=8))
def test_numbered_edges_are_checked_as_named_ones(pairs: list[tuple[str, str]]) -> None:
    units = [{"id": "x", "role": "input"}, {"id": "h"}, {"id": "y", "role": "output"}]
    ids = sorted({end for pair in pairs for end in pair})
    number = {name: index for index, name in enumerate(ids)}
    codes = np.array([[number[s], number[t]] for s, t in pairs], dtype=np.int32).reshape(-1, 2)
    numbered = Edges.numbered(ids, codes[:, 0], codes[:, 1])
    named = Edges([s for s, _ in pairs], [t for _, t in pairs])
    assert numbered == named and numbered.numbering is not None and named.numbering is None
    graphs = [
        Graph.model_validate({"format_version": 2, "units": units, "edges": edges})
        for edges in (numbered, named)
    ]
    first, second = (examine(graph) for graph in graphs)
    assert first.problems == second.problems
    assert first.source.tolist() == second.source.tolist()
    assert first.target.tolist() == second.target.tolist()
