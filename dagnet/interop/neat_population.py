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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dagnet.engine.plan import Plan, plan_of
from dagnet.errors import GraphFileError
from dagnet.functions.activations import CODES
from dagnet.functions.losses import Head
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import validate_document
from dagnet.interop.neat import NEAT_ACTIVATIONS, SUM, ImportRefused, node_id, require_neat

if TYPE_CHECKING:
    from dagnet.training.population import Population

__all__ = ["NeatUnion", "UnitIds", "member_graphs", "neat_union", "write_back_all"]

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

    def graphs(self, population: Population) -> list[Graph]:
        """The members' graphs, with ``population``'s parameters (see :func:`member_graphs`)."""
        return member_graphs(self, population)

    def write_back(self, population: Population, genomes: Any) -> int:
        """``population``'s parameters into the genomes (see :func:`write_back_all`)."""
        return write_back_all(self, population, genomes)

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
        builtin = getattr(function, "__module__", None) == module
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
    # The genes, read once, into flat arrays: node k of the union is vertex n_inputs + k; of
    # the connections, only the enabled ones (a third of them were not, in a run of neat.cfg).
    node_keys = [genome.nodes.keys() for genome in members]
    node_genes = [genome.nodes.values() for genome in members]
    enabled = [[c for c in genome.connections.values() if c.enabled] for genome in members]
    node_counts = np.fromiter(map(len, node_keys), np.int64, len(members))
    connection_counts = np.fromiter(map(len, enabled), np.int64, len(members))
    n_nodes, n_connections = int(node_counts.sum()), int(connection_counts.sum())
    keys = np.fromiter(chain.from_iterable(node_keys), np.int64, n_nodes)
    links = list(chain.from_iterable(enabled))
    pairs = np.fromiter(
        chain.from_iterable(map(attrgetter("key"), links)), np.int64, 2 * n_connections
    ).reshape(-1, 2)
    genome_keys = tuple(genome.key for genome in members)
    node_start = np.concatenate([[0], np.cumsum(node_counts)]).astype(np.int64)
    connection_start = np.concatenate([[0], np.cumsum(connection_counts)]).astype(np.int64)
    found = _required(
        np.array(input_keys, np.int64), np.array(output_keys, np.int64), node_start, keys,
        connection_start, pairs,
    )  # fmt: skip
    if found[0]:
        raise _problem(found[0], found[1], members, node_start, connection_start, keys, pairs)
    source, target, kept, required, outputs = found[2:]

    # Then only the genes that matter: those of the required nodes and their connections.
    genes = list(chain.from_iterable(node_genes))
    needed = np.flatnonzero(required[n_inputs:])
    chosen = list(map(genes.__getitem__, needed.tolist()))
    n_needed = len(chosen)
    biases = np.zeros(n_nodes)
    biases[needed] = np.fromiter(map(attrgetter("bias"), chosen), np.float64, n_needed)
    response = np.ones(n_inputs + n_nodes)
    response[n_inputs + needed] = np.fromiter(
        map(attrgetter("response"), chosen), np.float64, n_needed
    )
    activation_names = list(map(attrgetter("activation"), chosen))
    aggregation_names = list(map(attrgetter("aggregation"), chosen))
    weight = np.fromiter(map(attrgetter("weight"), links), np.float64, n_connections)[kept]
    # Each name a genome uses, looked up once: its code, or why it cannot be imported.
    activation_code = {
        name: CODES[NEAT_ACTIVATIONS[builtin]] if builtin in NEAT_ACTIVATIONS else -1
        for name, builtin in activations.items()
    }
    code = np.full(n_nodes, CODES["identity"], np.int64)
    code[needed] = np.fromiter(
        map(activation_code.get, activation_names, repeat(-1)), np.int64, n_needed
    )
    summing = _summing(aggregation_names, aggregations)
    bad = np.flatnonzero(~summing | (code[needed] < 0))
    if len(bad):
        at = int(bad[0])
        index = int(needed[at])
        m = int(np.searchsorted(node_start, index, side="right")) - 1
        name = f"member {m} (genome {genome_keys[m]}): node {keys[index]} " + (
            f"({node_id(int(keys[index]), _role(int(keys[index]), output_keys))})"
        )
        if not summing[at]:
            raise ImportRefused(
                f"{name}: aggregation {aggregation_names[at]!r} cannot be imported exactly: "
                "a dagnet unit sums its in-edges (sum only)"
            )
        what = "unknown" if activation_names[at] not in activations else "custom"
        raise ImportRefused(f"{name}: {what} activation {activation_names[at]!r} cannot be "
                            "imported: dagnet knows neat-python's built-ins "
                            f"{', '.join(NEAT_ACTIVATIONS)}")  # fmt: skip
    wiring = _wire(n_inputs, node_start, source, target, weight, response, required, outputs)
    if wiring[0]:
        raise _problem(wiring[0], wiring[1], members, node_start, connection_start, keys, pairs)
    (order_vertex, is_sum, units, output_position, edge_source, edge_target,
     edge_weight) = wiring[2:]  # fmt: skip

    # By position: a vertex below n_inputs is an input, then node n_inputs + k; sum units after.
    node = np.where(order_vertex >= n_inputs, order_vertex - n_inputs, 0)
    is_input = np.arange(len(order_vertex)) < n_inputs
    node = np.where(is_sum, order_vertex, node)  # a sum unit's vertex is its node's index
    key = np.where(is_input, np.array(input_keys, np.int64)[np.minimum(order_vertex, n_inputs - 1)],
                   keys[node])  # fmt: skip
    activation = np.where(is_input | is_sum, CODES["identity"], code[node]).astype(np.int8)
    bias = np.where(is_input | is_sum, 0.0, biases[node])
    member = np.repeat(np.arange(-1, len(members)), np.diff(np.concatenate([[0], units])))
    ids = UnitIds(key, is_sum, member, n_inputs)
    plan = plan_of(
        ids, n_inputs, output_position, activation, edge_source, edge_target,
        np.arange(len(order_vertex), dtype=np.int64),
    )  # fmt: skip
    head = (Head("loss", "squared_error", tuple(range(n_outputs))),)
    return NeatUnion(
        plan=plan,
        weight=edge_weight[plan.edge_file_index],
        bias=bias,
        units=units,
        heads=(head,) * len(members),
        genome_keys=genome_keys,
        input_keys=input_keys,
        output_keys=output_keys,
        key=key,
        is_sum=is_sum,
        source_key=key[plan.in_source],
        target_key=key[plan.edge_target],
    )


def _problem(
    problem: int,
    where: int,
    members: list[Any],
    node_start: IntArray,
    connection_start: IntArray,
    keys: IntArray,
    pairs: IntArray,
) -> ImportRefused:
    """The refusal that :func:`_wire`'s ``problem`` code stands for, in words."""
    if problem in (UNKNOWN_NODE, INTO_INPUT):
        m = int(np.searchsorted(connection_start, where, side="right")) - 1
        a, b = pairs[where].tolist()
        what = (
            "names a node that is not in the genome"
            if problem == UNKNOWN_NODE
            else "leads into an input"
        )
        return ImportRefused(f"member {m} (genome {members[m].key}): connection {a} -> {b} {what}")
    if problem == NO_OUTPUT:
        return ImportRefused(f"member {where} (genome {members[where].key}) lacks an output node "
                             "of the config's output_keys")  # fmt: skip
    m = int(np.searchsorted(node_start, where, side="right")) - 1
    return ImportRefused(f"member {m} (genome {members[m].key}): node {keys[where]} lies on a "
                         "cycle of enabled connections: dagnet networks are acyclic; use "
                         "feed_forward = True")  # fmt: skip


UNKNOWN_NODE, INTO_INPUT, NO_OUTPUT, CYCLE = 1, 2, 3, 4
"""The problems :func:`_wire` finds, by code."""


@njit(cache=True)
def _find(sorted_keys, sorted_index, lo, hi, input_keys, key):  # type: ignore[no-untyped-def]
    """The vertex of node ``key`` among one member's sorted nodes ``lo .. hi-1``, else the
    input's index, else -1."""
    at = lo + np.searchsorted(sorted_keys[lo:hi], key)
    if at < hi and sorted_keys[at] == key:
        return len(input_keys) + sorted_index[at]
    for i in range(len(input_keys)):
        if input_keys[i] == key:
            return i
    return -1


TABLE_LIMIT = 1 << 22
"""The most keys (max − min + 1) :func:`_required` makes a table of; beyond, it bisects."""


@njit(cache=True)
def _key_range(keys, input_keys):  # type: ignore[no-untyped-def]
    """The smallest and the largest of the node and input keys (0, -1 for none)."""
    both = np.concatenate((keys, input_keys))
    return (both.min(), both.max()) if len(both) else (0, -1)


@njit(cache=True)
def _lookup(table, first, key):  # type: ignore[no-untyped-def]
    """:func:`_find` by the table of the member's keys and the inputs' (-1 for neither)."""
    at = key - first
    return table[at] if 0 <= at < len(table) else -1


@njit(cache=True)
def _required(  # type: ignore[no-untyped-def]
    input_keys, output_keys, node_start, keys, connection_start, pairs
):
    """Each (enabled) connection's vertices, and the vertices with a path to an output
    (neat-python's required_for_output): returns (problem, where, then the sources, targets
    and connection numbers of the connections into required vertices, which vertices are
    required, and each member's outputs)."""
    n_inputs, n_outputs = len(input_keys), len(output_keys)
    n_members, n_nodes = len(node_start) - 1, len(keys)
    n_vertices = n_inputs + n_nodes
    empty = np.zeros(0, np.int64)
    # The enabled connections and the outputs, as vertices: each member's keys looked up in a
    # table over all the keys of the population (a bisection per look-up took most of this
    # function's time), or, where the keys lie too far apart for one, bisected.
    first, last = _key_range(keys, input_keys)
    table = np.full(last - first + 1 if last - first < TABLE_LIMIT else 0, -1, np.int64)
    sorted_index = np.empty(0 if len(table) else n_nodes, np.int64)
    for m in range(0 if len(table) else n_members):
        lo, hi = node_start[m], node_start[m + 1]
        sorted_index[lo:hi] = lo + np.argsort(keys[lo:hi], kind="mergesort")
    sorted_keys = keys[sorted_index]
    source = np.empty(len(pairs), np.int64)
    target = np.empty(len(pairs), np.int64)
    link = np.empty(len(pairs), np.int64)
    outputs = np.empty(n_members * n_outputs, np.int64)
    n = 0
    for m in range(n_members):
        lo, hi = node_start[m], node_start[m + 1]
        if len(table):  # the inputs, then the member's nodes (a node first, as in _find)
            for i in range(n_inputs):
                table[input_keys[i] - first] = i
            for i in range(lo, hi):
                table[keys[i] - first] = n_inputs + i
        for e in range(connection_start[m], connection_start[m + 1]):
            if len(table):
                a = _lookup(table, first, pairs[e, 0])
                b = _lookup(table, first, pairs[e, 1])
            else:
                a = _find(sorted_keys, sorted_index, lo, hi, input_keys, pairs[e, 0])
                b = _find(sorted_keys, sorted_index, lo, hi, input_keys, pairs[e, 1])
            if a < 0 or b < 0:
                return (UNKNOWN_NODE, e, empty, empty, empty, np.zeros(0, np.bool_), empty)
            if b < n_inputs:
                return (INTO_INPUT, e, empty, empty, empty, np.zeros(0, np.bool_), empty)
            source[n], target[n], link[n] = a, b, e
            n += 1
        for r in range(n_outputs):
            if len(table):
                v = _lookup(table, first, output_keys[r])
            else:
                v = _find(sorted_keys, sorted_index, lo, hi, input_keys, output_keys[r])
            if v < n_inputs:
                return (NO_OUTPUT, m, empty, empty, empty, np.zeros(0, np.bool_), empty)
            outputs[m * n_outputs + r] = v
        if len(table):
            for i in range(lo, hi):
                table[keys[i] - first] = -1
    # Required: the vertices with a path to an output (neat-python's required_for_output).
    in_start = np.zeros(n_vertices + 1, np.int64)
    for e in range(n):
        in_start[target[e] + 1] += 1
    for v in range(n_vertices):
        in_start[v + 1] += in_start[v]
    fill = in_start[:-1].copy()
    in_edge = np.empty(n, np.int64)
    for e in range(n):
        in_edge[fill[target[e]]] = e
        fill[target[e]] += 1
    required = np.zeros(n_vertices, np.bool_)
    stack = outputs.copy()
    top = len(stack)
    stack = np.concatenate((stack, np.empty(n_vertices, np.int64)))
    for v in outputs:
        required[v] = True
    while top > 0:
        top -= 1
        v = stack[top]
        for p in range(in_start[v], in_start[v + 1]):
            u = source[in_edge[p]]
            if not required[u]:
                required[u] = True
                stack[top] = u
                top += 1
    kept = np.flatnonzero(required[target[:n]])
    return (0, 0, source[kept], target[kept], link[kept], required, outputs)


@njit(cache=True)
def _wire(n_inputs, node_start, source, target, link_weight, response, required, outputs):  # type: ignore[no-untyped-def]
    """The rest, from the required vertices and the connections into them: sum units, each
    member's execution order, and the Plan's edges. Returns (problem, where, then the arrays
    neat_union takes apart)."""
    n_members, n_vertices, n = len(node_start) - 1, len(required), len(source)
    empty = np.zeros(0, np.int64)
    in_start = np.zeros(n_vertices + 1, np.int64)
    for e in range(n):
        in_start[target[e] + 1] += 1
    for v in range(n_vertices):
        in_start[v + 1] += in_start[v]
    # Sum units for fed nodes whose response is not 1: vertex n_vertices + j, in node order.
    sum_of = np.full(n_vertices, -1, np.int64)
    sums = 0
    for v in range(n_inputs, n_vertices):
        if required[v] and in_start[v + 1] > in_start[v] and response[v] != 1.0:
            sum_of[v] = n_vertices + sums
            sums += 1
    n_all = n_vertices + sums
    sum_node = np.empty(sums, np.int64)
    for v in range(n_inputs, n_vertices):
        if sum_of[v] >= 0:
            sum_node[sum_of[v] - n_vertices] = v
    # The union's edges, by vertex: the connections (into a sum unit where there is one), then
    # each sum unit's edge to its node.
    edge_source = np.empty(n + sums, np.int64)
    edge_target = np.empty(n + sums, np.int64)
    edge_weight = np.empty(n + sums)
    kept = 0
    for e in range(n):
        if required[target[e]]:  # and so is its source, or it is an input
            edge_source[kept] = source[e]
            edge_target[kept] = sum_of[target[e]] if sum_of[target[e]] >= 0 else target[e]
            edge_weight[kept] = link_weight[e]
            kept += 1
    for j in range(sums):
        edge_source[kept + j] = n_vertices + j
        edge_target[kept + j] = sum_node[j]
        edge_weight[kept + j] = response[sum_node[j]]
    n_edges = kept + sums
    edge_source, edge_target = edge_source[:n_edges], edge_target[:n_edges]
    edge_weight = edge_weight[:n_edges]
    # Each member's execution order (Kahn's, the earliest node first among the ready ones:
    # a stack would do as well), members one after the other, after the inputs.
    out_start = np.zeros(n_all + 1, np.int64)
    waiting = np.zeros(n_all, np.int64)
    for e in range(n_edges):
        out_start[edge_source[e] + 1] += 1
        if edge_source[e] >= n_inputs:
            waiting[edge_target[e]] += 1
    for v in range(n_all):
        out_start[v + 1] += out_start[v]
    fill = out_start[:-1].copy()
    out_edge = np.empty(n_edges, np.int64)
    for e in range(n_edges):
        out_edge[fill[edge_source[e]]] = e
        fill[edge_source[e]] += 1
    position = np.full(n_all, -1, np.int64)
    order = np.empty(n_all, np.int64)
    for i in range(n_inputs):
        position[i], order[i] = i, i
    placed = n_inputs
    units = np.empty(n_members + 1, np.int64)
    units[0] = n_inputs
    queue = np.empty(n_all, np.int64)
    first_sum = 0
    for m in range(n_members):
        head = tail = 0
        members_sums = first_sum
        while members_sums < sums and sum_node[members_sums] < n_inputs + node_start[m + 1]:
            members_sums += 1
        expected = 0
        for v in range(n_inputs + node_start[m], n_inputs + node_start[m + 1]):
            if required[v]:
                expected += 1
                if waiting[v] == 0:
                    queue[tail] = v
                    tail += 1
        for j in range(first_sum, members_sums):
            expected += 1
            if waiting[n_vertices + j] == 0:
                queue[tail] = n_vertices + j
                tail += 1
        first_sum = members_sums
        done = 0
        while head < tail:
            v = queue[head]
            head += 1
            position[v], order[placed] = placed, v
            placed += 1
            done += 1
            for q in range(out_start[v], out_start[v + 1]):
                w = edge_target[out_edge[q]]
                waiting[w] -= 1
                if waiting[w] == 0:
                    queue[tail] = w
                    tail += 1
        if done < expected:
            for v in range(n_inputs + node_start[m], n_inputs + node_start[m + 1]):
                if required[v] and position[v] < 0:
                    return (CYCLE, v - n_inputs, empty, np.zeros(0, np.bool_), empty, empty,
                            empty, empty, np.zeros(0))  # fmt: skip
        units[m + 1] = placed
    order = order[:placed]
    # A sum unit's vertex in ``order`` becomes its node's index, with is_sum set.
    is_sum = np.zeros(placed, np.bool_)
    for p in range(placed):
        if order[p] >= n_vertices:
            is_sum[p] = True
            order[p] = sum_node[order[p] - n_vertices] - n_inputs
    output_position = np.empty(len(outputs), np.int64)
    for r in range(len(outputs)):
        output_position[r] = position[outputs[r]]
    for e in range(n_edges):
        edge_source[e] = position[edge_source[e]]
        edge_target[e] = position[edge_target[e]]
    return (0, 0, order, is_sum, units, output_position, edge_source, edge_target, edge_weight)


def _summing(names: list[str], aggregations: dict[str, str | None]) -> BoolArray:
    """Whether each aggregation name is the built-in sum: each name that occurs asked once,
    and, as is usual, all of them sum, no look-up per node."""
    sums = {name: aggregations.get(name) == "sum" for name in set(names)}
    if all(sums.values()):
        return np.ones(len(names), bool)
    return np.fromiter(map(sums.__getitem__, names), bool, len(names))


def _role(key: int, output_keys: tuple[int, ...]) -> str:
    return "input" if key < 0 else "output" if key in output_keys else "hidden"


class UnitIds(Sequence[str]):
    """The union's unit ids, each made when it is read: the inputs' own, then ``k:key`` for
    member k's node ``key`` (and ``k:key_sum`` for its sum unit). Only messages read them
    (:func:`member_graphs` names the units as the importer does), and making two thousand
    strings for every new population was an eighth of :func:`neat_union`'s time."""

    def __init__(self, key: IntArray, is_sum: BoolArray, member: IntArray, n_inputs: int) -> None:
        self._parts = (key, is_sum, member, n_inputs)

    def __len__(self) -> int:
        return len(self._parts[0])

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self[j] for j in range(len(self))[index])
        j = range(len(self))[index]  # (a negative index counts from the end; IndexError past it)
        key, is_sum, member, n_inputs = self._parts
        if j < n_inputs:
            return node_id(int(key[j]), "input")
        return f"{member[j]}:{key[j]}{SUM if is_sum[j] else ''}"


def member_graphs(union: NeatUnion, population: Population) -> list[Graph]:
    """Each member's graph with the population's current parameters, as the importer writes
    it: the inputs, the hidden units (a sum unit before its node), the outputs in output_keys
    order; the edges from sum units, then the connections."""
    plan, found = union.plan, []
    n_inputs = plan.n_inputs
    weights, biases = population.network.weight.tolist(), population.network.bias.tolist()
    outputs_of = set(union.output_keys)
    names = [
        node_id(k, "input" if j < n_inputs else "output" if k in outputs_of else "hidden")
        + (SUM if s else "")
        for j, (k, s) in enumerate(zip(union.key.tolist(), union.is_sum.tolist(), strict=True))
    ]
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
