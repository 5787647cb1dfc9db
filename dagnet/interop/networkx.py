"""networkx interop: a graph moves between a dagnet Graph and a ``networkx.DiGraph`` without loss.

In the DiGraph, each node is a unit id with the attributes ``role``, ``activation`` and ``bias``
where the file has them; each edge has ``weight`` where the file has one; the graph's own
attributes hold ``name``, ``description``, ``training``, ``data``, ``trained`` and ``$schema``.
Nodes keep the file's order; edges come back in networkx's order, grouped by source unit.

Coming from networkx, a node without a ``role`` is an input when nothing feeds it, an output when
it feeds nothing, and hidden otherwise; a node with no edges at all and no ``role`` is refused
(it could be either, and an output must never silently become an input). Attributes dagnet does
not use (a drawing position, a NEAT gene's innovation number or ``response``) are left behind,
with a :class:`UnusedAttributeWarning` naming them.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import TYPE_CHECKING, Any

from dagnet.engine.network import Network
from dagnet.errors import ArgumentError, GraphFileError, Problem
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import validate_document

__all__ = ["UnusedAttributeWarning", "from_networkx", "to_networkx"]


class UnusedAttributeWarning(UserWarning):
    """``from_networkx`` left attributes behind that the graph file format has no place for."""


if TYPE_CHECKING:  # networkx is imported when it is used: it is a tenth of dagnet's start-up
    import networkx as nx

_SECTIONS = ("$schema", "name", "description", "training", "data", "trained")


def to_networkx(graph: Graph | Network) -> nx.DiGraph:
    """A ``networkx.DiGraph`` of the graph's units and edges with their attributes.

    A :class:`Network` is taken with its current parameters (``network.to_graph()``).

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> g = dagnet.to_networkx(graph)
    >>> g.nodes["y"]["role"], g.edges["x", "y"]["weight"]
    ('output', 2.0)
    """
    if isinstance(graph, Network):
        graph = graph.to_graph()
    import networkx as nx

    digraph = nx.DiGraph()
    sections = graph.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
    for key in _SECTIONS:
        if key in sections:
            digraph.graph[key] = sections[key]
    for unit in graph.units:
        attributes = unit.model_dump(exclude={"id"}, exclude_none=True)
        if attributes.get("trainable", False):
            del attributes["trainable"]  # the default: only a frozen bias is marked
        digraph.add_node(unit.id, **attributes)
    for edge in graph.edges:
        digraph.add_edge(
            edge.source, edge.target, **edge.model_dump(include={"weight"}, exclude_none=True)
        )
    return digraph


def from_networkx(digraph: nx.DiGraph, *, name: str | None = None) -> Graph:
    """A validated Graph from a ``networkx.DiGraph`` (see the module docstring for attributes).

    Parameters
    ----------
    digraph : networkx.DiGraph
        Nodes must be unit ids (strings such as ``"h1"``); relabel others first, e.g.
        ``nx.relabel_nodes(g, lambda n: f"n{n}")``.
    name : str, optional
        The graph's name; defaults to ``digraph.graph["name"]``.

    Raises
    ------
    GraphFileError
        When the result is not a valid graph (a cycle, a bad attribute, ...); every problem is
        listed with its JSON pointer into the equivalent graph file.
    ArgumentError
        When ``digraph`` is not a ``networkx.DiGraph`` (a multigraph, an undirected graph).

    Examples
    --------
    >>> import networkx as nx, dagnet
    >>> g = nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")])
    >>> [(u.id, u.role) for u in dagnet.from_networkx(g).units]
    [('x', 'input'), ('h', 'hidden'), ('y', 'output')]
    """
    import networkx as nx

    if not isinstance(digraph, nx.DiGraph) or digraph.is_multigraph():
        raise ArgumentError(f"from_networkx takes a networkx.DiGraph, not {type(digraph).__name__}")
    strange = [node for node in digraph if not isinstance(node, str)]
    if strange:
        raise GraphFileError(None, [Problem(
            "DAG014",
            f"node {strange[0]!r} is not a string; unit ids are strings such as 'h1': relabel "
            "with nx.relabel_nodes(g, lambda n: f'n{n}')",
            "/units",
        )])  # fmt: skip
    lonely = [
        node
        for node, attributes in digraph.nodes(data=True)
        if not attributes.get("role") and digraph.degree(node) == 0
    ]
    if lonely:
        raise GraphFileError(None, [Problem(
            "DAG014",
            f"node {lonely[0]!r} has no edges and no role, so it could be an input or an output; "
            "give it a role attribute ('input' or 'output')",
            "/units",
        )])  # fmt: skip
    _warn_unused(digraph)
    document: dict[str, Any] = {"format_version": FORMAT_VERSION}
    for key in _SECTIONS:
        if key in digraph.graph:
            document[key] = digraph.graph[key]
    if name is not None:
        document["name"] = name
    document["units"] = [
        {
            "id": node,
            "role": attributes.get("role") or _role(digraph, node),
            **_plain(attributes, ("activation", "bias", "trainable")),
        }
        for node, attributes in digraph.nodes(data=True)
    ]
    document["edges"] = [
        {"source": source, "target": target, **_plain(attributes, ("weight",))}
        for source, target, attributes in digraph.edges(data=True)
    ]
    graph, problems = validate_document(document)
    if graph is None or any(p.is_error for p in problems):
        raise GraphFileError(None, problems)
    return graph


_NODE_KEYS = {"role", "activation", "bias", "trainable"}
_HINTS = {"response": " (multiply it into the node's in-edge weights)"}


def _warn_unused(digraph: nx.DiGraph) -> None:
    """One warning naming every attribute from_networkx does not use, with how often."""
    unused: Counter[str] = Counter()
    for _, attributes in digraph.nodes(data=True):
        unused.update(f"node attribute '{k}'" for k in attributes if k not in _NODE_KEYS)
    for _, _, attributes in digraph.edges(data=True):
        unused.update(f"edge attribute '{k}'" for k in attributes if k != "weight")
    unused.update(f"graph attribute '{k}'" for k in digraph.graph if k not in _SECTIONS)
    if unused:
        listed = ", ".join(
            f"{what} ({n}×){_HINTS.get(what.split(chr(39))[1], '')}" for what, n in unused.items()
        )
        warnings.warn(
            f"from_networkx does not use {listed}; they are not in the graph",
            UnusedAttributeWarning,
            stacklevel=3,
        )


def _role(digraph: nx.DiGraph, node: str) -> str:
    if digraph.in_degree(node) == 0:
        return "input"
    return "output" if digraph.out_degree(node) == 0 else "hidden"


def _plain(attributes: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The attributes dagnet knows, as the file format has them (numpy scalars as numbers)."""
    plain = {}
    for key in keys:
        value = attributes.get(key)
        if value is not None:
            plain[key] = value.item() if hasattr(value, "item") else value
    return plain
