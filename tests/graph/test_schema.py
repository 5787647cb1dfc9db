"""The JSON Schema is generated from the models, committed, and every example obeys it; the
columnar edges read what the Edge model reads."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, TypeAdapter, ValidationError

from dagnet.functions.activations import ACTIVATIONS
from dagnet.functions.losses import LOSSES
from dagnet.graph.model import OPTIMIZER_NAMES, Edge, Edges, Graph
from dagnet.graph.schema import json_schema, json_schema_text
from dagnet.training.optimizers import OPTIMIZERS
from tests.conftest import GRAPHS, ROOT, small_graph

COMMITTED = ROOT / "schemas" / "graph.schema.json"


def test_committed_schema_is_what_the_models_generate() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == json_schema_text(), (
        "schemas/graph.schema.json is out of date: run `dagnet schema > schemas/graph.schema.json`"
    )


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("path", sorted(GRAPHS.glob("*.json")), ids=lambda p: p.name)
def test_every_example_graph_obeys_the_schema(path) -> None:
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), json_schema())


@pytest.mark.parametrize(
    "mistake",
    [
        {"units": [{"id": "x", "role": "input", "activation": "tanh"}]},
        {"units": [{"id": "x", "role": "input", "bias": 1.0}]},
        {"units": [{"id": "h", "activation": "sigmod"}]},
        {"units": [{"id": "h", "colour": "red"}]},
        {"units": [{"id": "9h"}]},
        {"data": {}},
        {"data": {"path": "a.csv", "columns": {"x": [1.0]}}},
    ],
)
def test_other_tools_see_the_same_rules_in_the_schema(mistake) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(small_graph(**mistake), json_schema())


def test_the_schema_offers_exactly_the_names_the_tables_implement() -> None:
    definitions = json_schema()["$defs"]
    activation = definitions["Unit"]["properties"]["activation"]
    assert [name for name in activation["enum"] if name is not None] == list(ACTIVATIONS)
    loss = definitions["Training"]["properties"]["loss"]
    assert loss.get("enum", [loss.get("const")]) == list(LOSSES)  # one name is a const
    assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES


def test_the_readme_example_file_is_a_valid_graph() -> None:
    from dagnet.graph.reading import parse_graph_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```json\n", 1)[1].split("```", 1)[0]
    graph, problems = parse_graph_text(example)
    assert graph is not None and problems == []
    jsonschema.validate(json.loads(example), json_schema())


# Edges: the fast columnar reading must accept and refuse exactly what Pydantic's list[Edge] does.

_edge_values = st.one_of(
    st.sampled_from(["x", "h1", "o.2", "a b", "", "1x", "é", "x-y_z"]),
    st.integers(-3, 3),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.just([]),
    st.just({}),
    st.just(["x"]),
)
_edge_items = st.one_of(
    st.fixed_dictionaries(
        {"source": st.sampled_from(["x", "h1", "o.2"]), "target": st.sampled_from(["h1", "y"])},
        optional={"weight": st.one_of(st.floats(-5, 5), st.integers(-3, 3), st.none())},
    ),
    st.dictionaries(st.sampled_from(["source", "target", "weight", "wieght"]), _edge_values),
    _edge_values,
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(_edge_items, max_size=6))
def test_reading_edges_fast_agrees_with_pydantic(items: list[Any]) -> None:
    try:
        expected = TypeAdapter(list[Edge], config=ConfigDict(strict=True)).validate_python(items)
    except ValidationError as exc:
        expected_errors = [(error["loc"], error["type"]) for error in exc.errors()]
    else:
        expected_errors = []
    document = {"format_version": 1, "units": [], "edges": items}
    try:
        edges = Graph.model_validate(document).edges
    except ValidationError as exc:
        errors = [(error["loc"][1:], error["type"]) for error in exc.errors()]
        assert errors == expected_errors
    else:
        assert not expected_errors
        assert isinstance(edges, Edges)
        assert list(edges) == expected
        assert all(type(w) in (float, type(None)) for w in edges.weights)


def test_edges_stay_columns_through_model_copy() -> None:
    graph = Graph.model_validate(
        {"format_version": 1, "units": [], "edges": [{"source": "a", "target": "b"}]}
    )
    copy = graph.model_copy(update={"edges": [Edge(source="b", target="c", weight=2.0)]})
    assert isinstance(copy.edges, Edges)
    assert copy.edges.weights == (2.0,)
    assert copy.model_dump()["edges"] == [{"source": "b", "target": "c", "weight": 2.0}]
    assert graph.edges[0] == Edge(source="a", target="b") and graph.edges[-1:] == [graph.edges[0]]
