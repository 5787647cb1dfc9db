"""The JSON Schema is generated from the models, committed, and every example obeys it."""

from __future__ import annotations

import json

import jsonschema
import pytest

from dagnet.activations import ACTIVATIONS
from dagnet.losses import LOSSES
from dagnet.optimizers import OPTIMIZERS
from dagnet.schema import (
    ACTIVATION_NAMES,
    LOSS_NAMES,
    OPTIMIZER_NAMES,
    json_schema,
    json_schema_text,
)
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


def test_the_tables_implement_exactly_the_names_of_the_format() -> None:
    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES
    assert tuple(LOSSES) == LOSS_NAMES
    assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES


def test_the_readme_example_file_is_a_valid_graph() -> None:
    from dagnet.files import parse_graph_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```json\n", 1)[1].split("```", 1)[0]
    graph, problems = parse_graph_text(example)
    assert graph is not None and problems == []
    jsonschema.validate(json.loads(example), json_schema())
