"""Graph models → file text, written atomically; relative paths kept right when a file moves."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dagnet.graph.atomic import atomic_write
from dagnet.graph.model import FORMAT_VERSION, Edges, Graph

__all__ = ["graph_to_text", "rebase_paths", "save_graph"]


def graph_to_text(graph: Graph) -> str:
    """The file text of a graph: two-space indent, one unit or edge per line."""
    document = graph.model_dump(
        by_alias=True, exclude_unset=True, exclude_none=True, exclude={"edges"}
    )
    document = {key: document[key] if key != "edges" else graph.edges for key in _ordered(graph)}
    document["format_version"] = FORMAT_VERSION  # what it is read as, whichever it came in as
    lines = ["{"]
    items = list(document.items())
    for position, (key, value) in enumerate(items):
        comma = "," if position < len(items) - 1 else ""
        if key == "edges" and value:
            lines.append(f'  "edges": [\n{_edge_rows(value)}\n  ]{comma}')
        elif key == "units" and value:
            rows = ",\n".join(f"    {_compact(item)}" for item in value)
            lines.append(f"  {json.dumps(key)}: [\n{rows}\n  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {_compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ordered(graph: Graph) -> list[str]:
    """The keys of ``graph`` that were set, in the model's order, by their names in the file."""
    fields = Graph.model_fields
    return [
        fields[name].alias or name
        for name in fields
        if name in graph.model_fields_set and getattr(graph, name) is not None
    ]


def _edge_rows(edges: Edges) -> str:
    # Unit ids match UNIT_ID_PATTERN, so they need no escaping, and repr() of a finite float is
    # its shortest JSON form: one f-string per edge writes a million edges in a second.
    rows = [
        f'    {{"source": "{s}", "target": "{t}"'
        if w is None
        else f'    {{"source": "{s}", "target": "{t}", "weight": {float(w)!r}'
        for s, t, w in zip(edges.sources, edges.targets, edges.weights, strict=True)
    ]
    ends = ("}" if trainable else ', "trainable": false}' for trainable in edges.trainable)
    return ",\n".join(map(str.__add__, rows, ends))


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def save_graph(graph: Graph, path: str | os.PathLike[str], *, overwrite: bool = True) -> None:
    """Write ``graph`` to ``path`` atomically, in the format :func:`load_graph` reads.

    Parameters
    ----------
    graph : Graph
    path : str or path-like
    overwrite : bool, default True
        When False, an existing file at ``path`` is an error and is left as it is, including
        one that appears while the text is being written. A device, FIFO or socket is never
        replaced; a symbolic link is written through (see :func:`dagnet.graph.atomic.atomic_write`).

    Raises
    ------
    FileExistsError
        When ``overwrite`` is False and ``path`` exists.
    OSError
        When the folder cannot be written; any existing file is left untouched.
    """
    atomic_write(path, graph_to_text(graph).encode("utf-8"), overwrite=overwrite)


def rebase_paths(graph: Graph, source: Path, destination: Path) -> Graph:
    """The graph with its relative paths (data, $schema) still correct when saved elsewhere."""
    old, new = source.resolve().parent, destination.resolve().parent
    if old == new:
        return graph

    def moved(relative: str) -> str:
        if "://" in relative or Path(relative).is_absolute():
            return relative
        return Path(os.path.relpath(old / relative, new)).as_posix()

    update: dict[str, Any] = {}
    if graph.schema_uri is not None:
        update["schema_uri"] = moved(graph.schema_uri)
    if graph.data is not None and graph.data.path is not None:
        update["data"] = graph.data.model_copy(update={"path": moved(graph.data.path)})
    return graph.model_copy(update=update)
