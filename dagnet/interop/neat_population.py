"""neat-python genomes straight into one Population plan, and trained parameters back into them.

:func:`neat_union` reads the genes of every genome of a neat-python population once, and builds
the disjoint union of their feed-forward networks with array operations over all of them: no
``FeedForwardNetwork``, no export, no graph model per genome. Each member is what
:func:`~dagnet.interop.neat.graph_from_genome` imports: the nodes that some enabled connection
path leads from to an output (neat-python's ``required_for_output``) with their bias and
activation, the enabled connections into them with their weights, and for a node whose
response is not 1 and that has in-edges, a sum unit ``hK_sum`` feeding it through an edge of
weight response. What cannot be imported exactly is refused as the importer refuses it, naming
the member, its genome and the node. :func:`write_back_all` copies trained parameters into the
genes exactly as :func:`~dagnet.interop.neat.write_back` does for each member's network.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dagnet.engine.plan import Plan, plan_of
from dagnet.errors import GraphFileError
from dagnet.functions.activations import CODES
from dagnet.functions.losses import Head
from dagnet.graph import topology
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import validate_document
from dagnet.interop.neat import NEAT_ACTIVATIONS, SUM, ImportRefused, node_id, require_neat

if TYPE_CHECKING:
    from dagnet.engine.population import Population

__all__ = ["NeatUnion", "member_graphs", "neat_union", "write_back_all"]

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

NAMES = tuple(CODES)
"""Activation names by code."""


@dataclass(frozen=True, eq=False)
class NeatUnion:
    """The union's Plan and parameters, and which gene each position and edge came from."""

    plan: Plan
    weight: Array
    bias: Array
    units: IntArray
    """(members + 1,): member k's units are positions ``units[k] .. units[k+1]-1``."""
    heads: tuple[tuple[Head, ...], ...]
    genome_keys: tuple[Any, ...]
    input_keys: tuple[int, ...]
    output_keys: tuple[int, ...]
    key: IntArray
    """(units,): the node key of each position (a sum unit: the key of the node it feeds)."""
    is_sum: BoolArray
    """(units,): whether a position is a sum unit."""
    source_key: IntArray
    """(edges,): in Plan order, the node key of each edge's source (as ``key``)."""
    target_key: IntArray

    @property
    def is_response(self) -> BoolArray:
        """(edges,): the edges from a sum unit to its node, whose weight is the response."""
        return self.is_sum[self.plan.in_source]


def _genomes(genomes: Any) -> list[Any]:
    """Genomes from a list of genomes, of (genome_id, genome) pairs, or a mapping id → genome."""
    if isinstance(genomes, Mapping):
        return list(genomes.values())
    found = list(genomes)
    return [g[1] if isinstance(g, tuple) and len(g) == 2 else g for g in found]


def _function_table(defs: Any, module: str, suffix: str) -> dict[str, str | None]:
    """Each function name a config knows → the built-in's name, or None for a custom one."""
    found: dict[str, str | None] = {}
    for name in getattr(defs, "functions", {}):
        function = defs.get(name)
        builtin = getattr(inspect.getmodule(function), "__name__", None) == module
        found[name] = function.__name__.replace(suffix, "") if builtin else None
    return found


def neat_union(genomes: Any, config: Any) -> NeatUnion:
    """The disjoint union of the genomes' feed-forward networks, inputs shared (see the module).

    Raises
    ------
    ImportRefused
        For a connection to or from a node the genome does not have, a cycle, an aggregation
        other than sum, or a custom or unknown activation, naming the member and the node.
    """
    require_neat("Population.from_neat")
    genome_config = config.genome_config
    input_keys = tuple(int(k) for k in genome_config.input_keys)
    output_keys = tuple(int(k) for k in genome_config.output_keys)
    n_inputs, n_outputs = len(input_keys), len(output_keys)
    members = _genomes(genomes)
    if not members:
        raise ImportRefused("a Population needs at least one genome")
    activations = _function_table(genome_config.activation_defs, "neat.activations", "_activation")
    aggregations = _function_table(
        genome_config.aggregation_function_defs, "neat.aggregations", "_aggregation"
    )
    # The genes, read once, into flat arrays: node k of the union is vertex n_inputs + k.
    node_keys, node_genes, connection_keys, connection_genes = [], [], [], []
    for genome in members:
        node_keys.append(genome.nodes.keys())
        node_genes.append(genome.nodes.values())
        connection_keys.append(genome.connections.keys())
        connection_genes.append(genome.connections.values())
    node_counts = np.fromiter(map(len, node_keys), np.int64, len(members))
    connection_counts = np.fromiter(map(len, connection_keys), np.int64, len(members))
    n_nodes, n_connections = int(node_counts.sum()), int(connection_counts.sum())
    keys = np.fromiter(chain.from_iterable(node_keys), np.int64, n_nodes)
    genes = list(chain.from_iterable(node_genes))
    biases = np.fromiter(map(attrgetter("bias"), genes), np.float64, n_nodes)
    responses = np.fromiter(map(attrgetter("response"), genes), np.float64, n_nodes)
    activation_names = list(map(attrgetter("activation"), genes))
    aggregation_names = list(map(attrgetter("aggregation"), genes))
    pairs = np.fromiter(
        chain.from_iterable(chain.from_iterable(connection_keys)), np.int64, 2 * n_connections
    ).reshape(-1, 2)
    links = list(chain.from_iterable(connection_genes))
    enabled = np.fromiter(map(attrgetter("enabled"), links), bool, n_connections)
    weight = np.fromiter(map(attrgetter("weight"), links), np.float64, n_connections)
    connection_member = np.repeat(np.arange(len(members)), connection_counts)[enabled]
    pairs, weight = pairs[enabled], weight[enabled]

    node_member = np.repeat(np.arange(len(members)), node_counts)
    genome_keys = tuple(genome.key for genome in members)
    n_vertices = n_inputs + n_nodes
    member = np.concatenate([np.full(n_inputs, -1), node_member])
    key = np.concatenate([np.array(input_keys, np.int64), keys])
    # A node's vertex from (member, key): the nodes sorted by member, then key, searched.
    span = int(max(np.abs(keys).max(initial=0), max(map(abs, input_keys), default=0))) + 1
    code_of_node = node_member * (2 * span + 1) + keys + span
    sorted_nodes = np.argsort(code_of_node, kind="stable")
    input_order = np.argsort(input_keys)
    sorted_inputs = np.array(input_keys, np.int64)[input_order]

    def vertices(m: IntArray, k: IntArray, what: str) -> IntArray:
        found = np.full(len(k), -1, np.int64)
        wanted = m * (2 * span + 1) + k + span
        at = np.minimum(np.searchsorted(code_of_node, wanted, sorter=sorted_nodes), n_nodes - 1)
        hit = code_of_node[sorted_nodes[at]] == wanted if n_nodes else np.zeros(len(k), bool)
        found[hit] = n_inputs + sorted_nodes[at[hit]]
        at = np.minimum(np.searchsorted(sorted_inputs, k), max(n_inputs - 1, 0))
        is_input = ~hit & (sorted_inputs[at] == k) if n_inputs else np.zeros(len(k), bool)
        found[is_input] = input_order[at[is_input]]
        if np.any(found < 0):
            e = int(np.flatnonzero(found < 0)[0])
            raise ImportRefused(
                f"member {m[e]} (genome {genome_keys[m[e]]}): node {k[e]} is named by {what} "
                "but is not in the genome"
            )
        return found

    source = vertices(connection_member, pairs[:, 0], "a connection")
    target = vertices(connection_member, pairs[:, 1], "a connection")
    outputs = vertices(
        np.repeat(np.arange(len(members)), n_outputs),
        np.tile(np.array(output_keys, np.int64), len(members)),
        "the config's output_keys",
    )

    def refuse(vertex: int, message: str) -> ImportRefused:
        m = int(member[vertex])
        return ImportRefused(f"member {m} (genome {genome_keys[m]}): node {key[vertex]} "
                             f"({node_id(int(key[vertex]), _role(int(key[vertex]), output_keys))}"
                             f"): {message}")  # fmt: skip

    into_input = np.flatnonzero(target < n_inputs)
    if len(into_input):
        e = int(into_input[0])
        m = int(connection_member[e])
        raise ImportRefused(f"member {m} (genome {genome_keys[m]}): a connection leads into "
                            f"input {key[target[e]]}")  # fmt: skip

    # What neat-python's FeedForwardNetwork computes: the nodes with a path to an output, and
    # the enabled connections into them.
    required = topology.reachable(n_vertices, target, source, outputs)
    required[:n_inputs] = True
    kept = required[target]
    source, target, weight = source[kept], target[kept], weight[kept]
    # Each name a genome uses, looked up once: its code, or why it cannot be imported.
    activation_code = {
        name: CODES[NEAT_ACTIVATIONS[builtin]] if builtin in NEAT_ACTIVATIONS else -1
        for name, builtin in activations.items()
    }
    code = np.concatenate([
        np.full(n_inputs, CODES["identity"]),
        [activation_code.get(name, -1) for name in activation_names],
    ]).astype(np.int8)  # fmt: skip
    summing = np.concatenate([
        np.ones(n_inputs, bool), [aggregations.get(name) == "sum" for name in aggregation_names]
    ]).astype(bool)  # fmt: skip
    for vertex in np.flatnonzero(required & (~summing | (code < 0)))[:1].tolist():
        index = vertex - n_inputs
        if not summing[vertex]:
            raise refuse(vertex, f"aggregation {aggregation_names[index]!r} cannot be imported "
                         "exactly: a dagnet unit sums its in-edges (sum only)")  # fmt: skip
        what = "unknown" if activation_names[index] not in activations else "custom"
        raise refuse(vertex, f"{what} activation {activation_names[index]!r} cannot be "
                     f"imported: dagnet knows neat-python's built-ins "
                     f"{', '.join(NEAT_ACTIVATIONS)}")  # fmt: skip
    bias = np.concatenate([np.zeros(n_inputs), biases])
    response = np.concatenate([np.ones(n_inputs), responses])

    # A fed node whose response is not 1 gets a sum unit, vertex n_vertices + j.
    fed = np.bincount(target, minlength=n_vertices) > 0
    summed = np.flatnonzero(required & fed & (response != 1.0))
    summed = summed[summed >= n_inputs]
    sum_vertex = np.full(n_vertices, -1, np.int64)
    sum_vertex[summed] = n_vertices + np.arange(len(summed))
    redirected = sum_vertex[target] >= 0
    target = np.where(redirected, sum_vertex[target], target)
    source = np.concatenate([source, sum_vertex[summed]])
    target = np.concatenate([target, summed])
    weight = np.concatenate([weight, response[summed]])
    n_all = n_vertices + len(summed)
    member = np.concatenate([member, member[summed]])
    key = np.concatenate([key, key[summed]])
    is_sum = np.concatenate([np.zeros(n_vertices, bool), np.ones(len(summed), bool)])
    code = np.concatenate([code, np.full(len(summed), CODES["identity"], np.int8)])
    bias = np.concatenate([bias, np.zeros(len(summed))])
    alive = np.concatenate([required, np.ones(len(summed), bool)])

    # Execution order: a topological order of everything, then member by member (stable).
    order = topology.lexicographic_order(n_all, source, target)
    if len(order) < n_all:
        stuck = np.ones(n_all, bool)
        stuck[order] = False
        first = int(np.flatnonzero(stuck & alive)[0]) if np.any(stuck & alive) else None
        if first is not None:
            raise refuse(first, "it lies on a cycle of enabled connections: dagnet networks "
                         "are acyclic; use feed_forward = True")  # fmt: skip
        order = np.concatenate([order, np.flatnonzero(stuck)])
    order = order[alive[order]]
    assert np.array_equal(order[:n_inputs], np.arange(n_inputs))
    rest = order[n_inputs:]
    order = np.concatenate([order[:n_inputs], rest[np.argsort(member[rest], kind="stable")]])
    position = np.full(n_all, -1, np.int64)
    position[order] = np.arange(len(order))
    member_sizes = np.bincount(member[order[n_inputs:]], minlength=len(members))
    units = np.concatenate([[n_inputs], n_inputs + np.cumsum(member_sizes)]).astype(np.int64)

    ids = _unit_ids(key[order], is_sum[order], member[order], n_inputs, output_keys)
    plan = plan_of(
        ids,
        n_inputs,
        position[outputs],
        code[order],
        position[source],
        position[target],
        np.arange(len(order), dtype=np.int64),
    )
    head = (Head("loss", "squared_error", tuple(range(n_outputs))),)
    edge_source = order[plan.in_source]
    edge_target = order[plan.edge_target]
    return NeatUnion(
        plan=plan,
        weight=weight[plan.edge_file_index],
        bias=bias[order],
        units=units,
        heads=(head,) * len(members),
        genome_keys=genome_keys,
        input_keys=input_keys,
        output_keys=output_keys,
        key=key[order],
        is_sum=is_sum[order],
        source_key=key[edge_source],
        target_key=key[edge_target],
    )


def _role(key: int, output_keys: tuple[int, ...]) -> str:
    return "input" if key < 0 else "output" if key in output_keys else "hidden"


def _unit_ids(
    key: IntArray, is_sum: BoolArray, member: IntArray, n_inputs: int, outputs: tuple[int, ...]
) -> tuple[str, ...]:
    """``k:id`` for member k's unit ``id`` as the importer names it; the inputs keep theirs."""
    prefix = np.where(np.isin(key, outputs), "o", "h").tolist()
    suffix = np.where(is_sum, SUM, "").tolist()
    ids = [node_id(int(k), "input") for k in key[:n_inputs].tolist()]
    ids += [
        f"{m}:{p}{k}{s}" if k >= 0 else f"{m}:{p}_{-k}{s}"
        for m, p, k, s in zip(
            member[n_inputs:].tolist(),
            prefix[n_inputs:],
            key[n_inputs:].tolist(),
            suffix[n_inputs:],
            strict=True,
        )
    ]
    return tuple(ids)


def member_graphs(union: NeatUnion, population: Population) -> list[Graph]:
    """Each member's graph with the population's current parameters, as the importer writes
    it: the inputs, the hidden units (a sum unit before its node), the outputs in output_keys
    order; the edges from sum units, then the connections."""
    plan, found = union.plan, []
    n_inputs = plan.n_inputs
    weights, biases = population.network.weight.tolist(), population.network.bias.tolist()
    names = [unit.split(":", 1)[-1] for unit in plan.unit_ids]
    codes = plan.activation.tolist()
    sources, targets = plan.in_source.tolist(), plan.edge_target.tolist()
    response = union.is_response.tolist()
    for k in range(population.n_members):
        first, last = int(population.units[k]), int(population.units[k + 1])
        outputs = plan.output_positions[k * population.n_outputs : (k + 1) * population.n_outputs]
        is_output = set(outputs.tolist())
        units: list[dict[str, Any]] = [{"id": names[j], "role": "input"} for j in range(n_inputs)]
        for j in [*(j for j in range(first, last) if j not in is_output), *outputs.tolist()]:
            unit = {"id": names[j], "activation": NAMES[codes[j]], "bias": biases[j]}
            if j in is_output:
                unit["role"] = "output"
            units.append(unit)
        span = range(int(population.edges[k]), int(population.edges[k + 1]))
        order = [p for p in span if response[p]] + [p for p in span if not response[p]]
        edges = [
            {"source": names[sources[p]], "target": names[targets[p]], "weight": weights[p]}
            for p in order
        ]
        document = {
            "format_version": FORMAT_VERSION,
            "name": "neat",
            "description": f"genome {union.genome_keys[k]}, from a dagnet Population",
            "units": units,
            "edges": edges,
        }
        graph, problems = validate_document(document)
        if graph is None or any(p.is_error for p in problems):
            raise GraphFileError(f"member {k}", problems)
        found.append(graph)
    return found


def write_back_all(union: NeatUnion, population: Population, genomes: Any) -> int:
    """Copy every member's weights and biases into its genome, as
    :func:`~dagnet.interop.neat.write_back` does for one network: edge weights into connection
    genes, biases into node genes, and a sum unit's edge weight into the node's ``response``
    (its bias b′ into the node's bias as bias + response · b′). Every gene is found before
    any is written; the genomes must be the ones the population was made from, in order."""
    members = _genomes(genomes)
    if len(members) != population.n_members:
        raise ImportRefused(
            f"the population has {population.n_members} members but {len(members)} genomes "
            "were given to write back into"
        )
    plan = union.plan
    weights, biases = population.network.weight.tolist(), population.network.bias.tolist()
    keys, sums = union.key.tolist(), union.is_sum.tolist()
    source_keys, target_keys = union.source_key.tolist(), union.target_key.tolist()
    response_edges = union.is_response.tolist()
    sources = plan.in_source.tolist()
    changes: list[tuple[Any, str, float]] = []
    for k, genome in enumerate(members):
        if genome.key != union.genome_keys[k]:
            raise ImportRefused(f"member {k} was made from genome {union.genome_keys[k]}, not "
                                f"genome {genome.key}")  # fmt: skip
        span = range(int(population.edges[k]), int(population.edges[k + 1]))
        response: dict[int, tuple[float, float]] = {}  # node key → (response, b′)
        for p in span:
            if response_edges[p]:
                response[target_keys[p]] = (weights[p], biases[sources[p]])
        nodes = genome.nodes
        for j in range(int(population.units[k]), int(population.units[k + 1])):
            if sums[j]:
                continue
            gene = nodes[keys[j]]
            bias = biases[j]
            if keys[j] in response:
                gain, sum_bias = response[keys[j]]
                changes.append((gene, "response", gain))
                bias += gain * sum_bias
            changes.append((gene, "bias", bias))
        connections = genome.connections
        for p in span:
            if not response_edges[p]:
                gene = connections.get((source_keys[p], target_keys[p]))
                if gene is None:
                    raise ImportRefused(f"member {k} (genome {genome.key}) has no connection "
                                        f"{(source_keys[p], target_keys[p])}")  # fmt: skip
                changes.append((gene, "weight", weights[p]))
    for gene, attribute, value in changes:
        setattr(gene, attribute, value)
    return len(changes)
