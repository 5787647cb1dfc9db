"""The JSON Schema of the graph file format, generated from the Pydantic models.

``dagnet schema`` prints it, ``schemas/graph.schema.json`` holds it (a test keeps the two the
same), and other tools check graph files against it.
"""

from __future__ import annotations

import json
from typing import Any

from dagnet.graph.model import Graph

__all__ = ["SCHEMA_DIALECT", "json_schema", "json_schema_text"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of format v1, generated from the models.

    Returns
    -------
    dict
        The schema document that ``dagnet schema`` prints and ``schemas/`` holds.
    """
    schema = Graph.model_json_schema(by_alias=True)
    return {"$schema": SCHEMA_DIALECT, **schema}


def json_schema_text() -> str:
    """The JSON Schema as the text committed in ``schemas/graph.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
