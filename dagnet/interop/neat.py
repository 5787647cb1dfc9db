"""neat-python interop: a feed-forward genome's JSON export becomes a dagnet graph, and back.

neat-python 2.x writes a network with ``neat.export.export_network_json`` (``format_version``
"1.0", ``network_type`` "feedforward"); :func:`graph_from_neat` reads that document, which needs
no neat-python at all. Each node computes ``act(bias + response · Σ w z)``: the unit keeps the
node's ``bias``, its activation is the table entry that computes neat-python's function with its
scale factor and clamp (``sigmoid`` is ``neat_sigmoid``, σ(clamp(5s, ±60))), and its in-edges
keep the genome's weights. A node whose ``response`` is not 1 (neat-python's default) becomes
two units, ``hK_sum`` (identity, bias 0) summing the in-edges and feeding ``hK`` through one
edge of weight ``response``: the unit then computes bias + response · (Σ w z) in neat-python's
order of operations, where multiplying response into each weight would round every product
once more. Unit ids are the node keys with a role prefix and the minus sign written as ``_``:
input −1 is ``i_1``, output 0 is ``o0``, hidden node 7 is ``h7`` (its sum unit ``h7_sum``).
Inputs and outputs keep the order of ``input_keys`` and ``output_keys``. What dagnet cannot
compute exactly (another aggregation, a custom function, a recurrent, CTRNN or IZNN network) is
refused, naming the node. Going back, :func:`write_back` copies a trained network's weights
and biases into the genome it came from (Lamarckian evolution); :func:`graph_from_genome`
imports a genome directly, which needs the optional extra ``neat``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from dagnet.engine.network import Network
from dagnet.errors import DagnetError, GraphFileError
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import validate_document

__all__ = [
    "NEAT_ACTIVATIONS",
    "SUM",
    "ImportRefused",
    "NeatUnavailable",
    "graph_from_genome",
    "graph_from_neat",
    "is_neat_document",
    "node_id",
    "node_key",
    "read_neat",
    "require_neat",
    "write_back",
]

NEAT_ACTIVATIONS: dict[str, str] = {
    "sigmoid": "neat_sigmoid",
    "tanh": "neat_tanh",
    "sin": "neat_sin",
    "gauss": "neat_gauss",
    "relu": "relu",
    "elu": "elu",
    "lelu": "neat_lelu",
    "selu": "selu",
    "softplus": "neat_softplus",
    "identity": "identity",
    "clamped": "clamped",
    "inv": "neat_inv",
    "log": "neat_log",
    "exp": "neat_exp",
    "abs": "abs",
    "hat": "hat",
    "square": "square",
    "cube": "cube",
}
"""neat-python's built-in activation → the dagnet activation computing the same function."""

_PREFIX = {"input": "i", "output": "o", "hidden": "h"}
_ID = re.compile(r"^([ioh])(_?)(\d+)(_sum)?$")
SUM = "_sum"
"""The suffix of the unit that sums the in-edges of a node whose response is not 1."""


class ImportRefused(DagnetError):
    """A network that dagnet cannot compute exactly as its source does; the message says where
    and why."""


class NeatUnavailable(DagnetError):
    """neat-python, the optional extra ``neat``, is not installed."""


def require_neat(what: str) -> ModuleType:
    """neat-python, or a :class:`NeatUnavailable` saying how to install it."""
    try:
        import neat
    except ImportError:
        raise NeatUnavailable(
            f"{what} needs neat-python, which is not installed; install it with "
            "pip install 'dagnet[neat]' (or pip install neat-python)"
        ) from None
    module: ModuleType = neat
    return module


def node_id(key: int, role: str) -> str:
    """The unit id of a neat-python node key.

    Examples
    --------
    >>> node_id(-1, "input"), node_id(0, "output"), node_id(12, "hidden")
    ('i_1', 'o0', 'h12')
    """
    return f"{_PREFIX[role]}{'_' if key < 0 else ''}{abs(key)}"


def node_key(unit_id: str) -> int:
    """The neat-python node key of a unit id made by :func:`node_id` (or of the node whose
    in-edges a ``..._sum`` unit sums).

    Examples
    --------
    >>> node_key("i_1"), node_key("o0"), node_key("h12"), node_key("h12_sum")
    (-1, 0, 12, 12)
    """
    match = _ID.match(unit_id)
    if match is None:
        raise ValueError(f"unit {unit_id!r} was not named by the neat importer")
    return -int(match[3]) if match[2] else int(match[3])


def is_neat_document(document: Any) -> bool:
    """Whether a parsed JSON document looks like neat-python's network export."""
    return (
        isinstance(document, Mapping)
        and "network_type" in document
        and "nodes" in document
        and "connections" in document
    )


def read_neat(path: str | os.PathLike[str]) -> Graph:
    """The graph of a neat-python JSON export file (see :func:`graph_from_neat`).

    Raises
    ------
    ImportRefused
        When the file is not such an export, or holds what dagnet cannot compute exactly.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRefused(f"{path}: cannot read a neat-python export: {exc}") from None
    return graph_from_neat(document, where=str(path))


def _refuse(where: str | None, message: str) -> ImportRefused:
    return ImportRefused(f"{where}: {message}" if where else message)


def graph_from_neat(document: Mapping[str, Any], *, where: str | None = None) -> Graph:
    """The dagnet graph computing what a neat-python feed-forward export computes.

    Parameters
    ----------
    document : mapping
        The parsed JSON of ``neat.export.export_network_json`` (format_version "1.0").
    where : str, optional
        The file's name, for messages.

    Raises
    ------
    ImportRefused
        For a recurrent, CTRNN or IZNN network, an aggregation other than sum, a custom or
        unknown activation, or a document that is not such an export; the message names the
        node.

    Examples
    --------
    >>> doc = {"format_version": "1.0", "network_type": "feedforward",
    ...     "topology": {"input_keys": [-1], "output_keys": [0]},
    ...     "nodes": [{"id": 0, "type": "output", "bias": 0.5, "response": 1.0,
    ...                "activation": {"name": "sigmoid", "custom": False},
    ...                "aggregation": {"name": "sum", "custom": False}},
    ...               {"id": -1, "type": "input"}],
    ...     "connections": [{"from": -1, "to": 0, "weight": 2.0, "enabled": True}]}
    >>> graph = graph_from_neat(doc)
    >>> [(u.id, u.activation, u.bias) for u in graph.units]
    [('i_1', None, None), ('o0', 'neat_sigmoid', 0.5)]
    """
    if not is_neat_document(document):
        raise _refuse(where, "not a neat-python network export (no network_type, nodes and "
                      "connections)")  # fmt: skip
    version = document.get("format_version")
    if version != "1.0":
        raise _refuse(where, f"neat-python export format_version {version!r} is not supported; "
                      "dagnet reads \"1.0\"")  # fmt: skip
    kind = document["network_type"]
    if kind != "feedforward":
        raise _refuse(where, f"a {kind} network cannot be imported: dagnet networks are "
                      "acyclic and stateless; export a FeedForwardNetwork")  # fmt: skip
    topology = document.get("topology") or {}
    try:
        inputs = [int(k) for k in topology["input_keys"]]
        outputs = [int(k) for k in topology["output_keys"]]
    except (KeyError, TypeError, ValueError):
        raise _refuse(where, "topology.input_keys and topology.output_keys must list the "
                      "node keys") from None  # fmt: skip
    output_set = set(outputs)
    ids: dict[int, str] = {k: node_id(k, "input") for k in inputs}
    nodes: dict[int, Mapping[str, Any]] = {}
    for node in document["nodes"]:
        key = int(node["id"])
        if key in ids and key not in output_set:
            continue  # an input
        nodes[key] = node
        ids[key] = node_id(key, "output" if key in output_set else "hidden")
    for key in outputs:  # an output no path reaches: neat-python leaves it at 0.0
        ids.setdefault(key, node_id(key, "output"))

    connections = []
    for connection in document["connections"]:
        if not connection.get("enabled", True):
            continue
        source, target = int(connection["from"]), int(connection["to"])
        if source not in ids or target not in nodes:
            raise _refuse(where, f"connection {source} -> {target} names a node that is not in "
                          "the network")  # fmt: skip
        connections.append((source, target, float(connection["weight"])))
    fed = {target for _, target, _ in connections}

    units: list[dict[str, Any]] = [{"id": ids[k], "role": "input"} for k in inputs]
    hidden: list[dict[str, Any]] = []
    by_output: dict[int, list[dict[str, Any]]] = {}
    edges: list[dict[str, Any]] = []
    summed: dict[int, str] = {}  # node → the unit its in-edges go to, when that is its sum unit
    for key, node in nodes.items():
        name = f"node {key} ({ids[key]})"
        aggregation = node.get("aggregation") or {}
        if aggregation.get("name") != "sum" or aggregation.get("custom"):
            raise _refuse(
                where,
                f"{name}: aggregation {aggregation.get('name')!r} cannot be imported exactly: "
                "a dagnet unit sums its in-edges (sum only)",
            )
        activation = node.get("activation") or {}
        act = activation.get("name")
        if activation.get("custom") or act not in NEAT_ACTIVATIONS:
            what = "custom" if activation.get("custom") else "unknown"
            raise _refuse(
                where,
                f"{name}: {what} activation {act!r} cannot be imported: dagnet knows "
                f"neat-python's built-ins {', '.join(NEAT_ACTIVATIONS)}",
            )
        bias, gain = float(node.get("bias", 0.0)), float(node.get("response", 1.0))
        if not (math.isfinite(bias) and math.isfinite(gain)):
            raise _refuse(where, f"{name}: bias and response must be finite numbers")
        role = "output" if key in output_set else "hidden"
        made = []
        if gain != 1.0 and key in fed:  # bias + response · (Σ w z), in neat-python's order
            summed[key] = ids[key] + SUM
            made.append({"id": summed[key], "activation": "identity", "bias": 0.0})
            edges.append({"source": summed[key], "target": ids[key], "weight": gain})
        made.append(
            {"id": ids[key], "role": role, "activation": NEAT_ACTIVATIONS[act], "bias": bias}
        )
        if key in output_set:
            by_output[key] = made
        else:
            hidden += made
    units += hidden
    for key in outputs:
        units += by_output.get(key, [{"id": ids[key], "role": "output", "bias": 0.0}])
    edges += [
        {"source": ids[source], "target": summed.get(target, ids[target]), "weight": weight}
        for source, target, weight in connections
    ]
    metadata = document.get("metadata") or {}
    version_text = metadata.get("neat_python_version", "neat-python")
    graph_document = {
        "format_version": FORMAT_VERSION,
        "name": "neat",
        "description": f"imported from a neat-python {version_text} feed-forward export",
        "units": units,
        "edges": edges,
    }
    graph, problems = validate_document(graph_document)
    if graph is None or any(p.is_error for p in problems):
        raise GraphFileError(where, problems)
    return graph


def graph_from_genome(genome: Any, config: Any) -> Graph:
    """The dagnet graph of a neat-python genome's feed-forward network (needs neat-python).

    The genome's network is built with ``neat.nn.FeedForwardNetwork.create`` and exported with
    ``neat.export``, so the graph is exactly what :func:`graph_from_neat` makes of the export.
    """
    neat = require_neat("importing a genome")
    from neat.export.exporters import export_feedforward

    network = neat.nn.FeedForwardNetwork.create(genome, config)
    return graph_from_neat(json.loads(json.dumps(export_feedforward(network))))


def write_back(trained: Network | Graph, genome: Any) -> int:
    """Copy a trained network's weights and biases into the neat-python genome it came from.

    Each edge's weight becomes its connection gene's ``weight`` and each unit's bias its node
    gene's ``bias``, as they are: the importer left the genome's numbers unchanged, so with
    response 1 (neat-python's default) the genome's network then computes exactly what
    ``trained`` computes. A node with another response was imported as a sum unit feeding the
    node through an edge of weight response; that weight, trained like any other, becomes the
    node gene's ``response``. The sum unit's own bias b′ (0 when imported) has no gene: it goes
    into the node's bias as bias + response · b′, which is exact while b′ is 0 and otherwise the
    one rounding of the write-back. Genes the network does not use are left as they are.

    Parameters
    ----------
    trained : Network or Graph
        A network imported by :func:`graph_from_neat` or :func:`graph_from_genome`, trained.
    genome : neat.DefaultGenome
        The genome it was imported from; changed in place.

    Returns
    -------
    int
        How many genes were written.

    Raises
    ------
    ImportRefused
        When a unit or edge has no gene in the genome, or a node's response is not 1 although
        the network has no sum unit for it (it was imported from another genome). The genome
        is then left as it was.
    """
    graph = trained.to_graph() if isinstance(trained, Network) else trained
    sum_bias = {node_key(u.id): float(u.bias or 0.0) for u in graph.units if u.id.endswith(SUM)}
    response = {node_key(e.target): float(e.weight or 0.0)
                for e in graph.edges if e.source.endswith(SUM)}  # fmt: skip
    fed = {e.target for e in graph.edges}
    changes: list[tuple[Any, str, float]] = []  # (gene, attribute, value): checked, then made
    for unit in graph.units:
        if unit.role == "input" or unit.id.endswith(SUM):
            continue
        key = node_key(unit.id)
        gene = genome.nodes.get(key)
        if gene is None:
            if unit.role == "output" and unit.bias in (None, 0.0):
                continue  # an output neat-python leaves at 0 and dagnet did not change
            raise ImportRefused(f"unit {unit.id}: the genome has no node {key}")
        bias = float(unit.bias or 0.0)
        if key in response:
            changes.append((gene, "response", response[key]))
            bias += response[key] * sum_bias.get(key, 0.0)
        elif float(gene.response) != 1.0 and unit.id in fed:
            raise ImportRefused(f"unit {unit.id}: node {key} has response {gene.response!r}, "
                                f"but the network has no unit {unit.id}{SUM} carrying it: "
                                "it was not imported from this genome")  # fmt: skip
        changes.append((gene, "bias", bias))
    for edge in graph.edges:
        if edge.source.endswith(SUM):
            continue
        connection = (node_key(edge.source), node_key(edge.target))
        gene = genome.connections.get(connection)
        if gene is None:
            raise ImportRefused(f"edge {edge.source} -> {edge.target}: the genome has no "
                                f"connection {connection}")  # fmt: skip
        changes.append((gene, "weight", float(edge.weight or 0.0)))
    for gene, attribute, value in changes:
        setattr(gene, attribute, value)
    return len(changes)
