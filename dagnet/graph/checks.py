"""The rules that relate the parts of a graph file to each other, checked on arrays.

:func:`check` takes a structurally valid :class:`~dagnet.graph.model.Graph` and returns every
problem it finds, not only the first: duplicate unit ids, unknown activations, edges that name
unknown units, duplicate edges, self-loops, edges into inputs, activations or biases on inputs,
a missing input or output role, and cycles (one per strongly connected component, printed as a
path). When the graph is otherwise valid it also warns about units that no input reaches and
units that reach no output: legal, but rarely what was meant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from numpy.typing import NDArray

from dagnet.errors import Problem
from dagnet.functions.activations import ACTIVATION_NAMES
from dagnet.graph import topology
from dagnet.graph.heads import loss_problems
from dagnet.graph.jsontext import pointer
from dagnet.graph.messages import Suggestions, did_you_mean, listing
from dagnet.graph.model import Graph

__all__ = ["CYCLE_UNITS_SHOWN", "Inspection", "check", "examine"]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Inspection:
    """What checking a graph found, and the graph as arrays for whoever compiles it next.

    Units are numbered by file position; an edge end naming a unit id used twice refers to the
    first unit with that id, and one naming no unit is -1.

    Attributes
    ----------
    problems : list of Problem
    source, target : int arrays (edges,)
        The unit number at each end of each edge, in file order.
    order : int array or None
        The units in topological order, the earliest in the file first among those ready;
        None unless the graph is free of errors.
    """

    problems: list[Problem]
    source: IntArray
    target: IntArray
    order: IntArray | None

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


def check(graph: Graph) -> list[Problem]:
    """Every rule-breaking relation between the units and edges of ``graph``.

    Returns
    -------
    list of Problem
        Errors and warnings, without line numbers (the loader adds those from the text).

    Examples
    --------
    >>> from dagnet.graph.model import Graph
    >>> g = Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "z"}]})
    >>> [p.message for p in check(g)]
    ["unknown unit 'z'; known units are x, y"]
    """
    return list(examine(graph).problems)


def examine(graph: Graph) -> Inspection:
    """Like :func:`check`, also returning the graph as arrays and, when valid, its order.

    The result is kept on the graph (which cannot change; a copy with changes starts without
    it), so loading a file and then compiling it checks it once.
    """
    if graph.inspection is not None:
        return graph.inspection  # type: ignore[no-any-return]  # (kept untyped on the model)
    number: dict[str, int] = {}
    for index, unit in enumerate(graph.units):
        number.setdefault(unit.id, index)
    source, target = _unit_numbers(graph, number)
    problems = _unit_problems(graph) + _edge_problems(graph, number, source, target)
    problems += loss_problems(graph)
    linked = (source >= 0) & (target >= 0) & (source != target)
    order = topology.lexicographic_order(len(graph.units), source[linked], target[linked])
    if len(order) < len(graph.units):
        problems += _cycle_problems(graph, order, source[linked], target[linked])
    result = Inspection(problems, source, target, None)
    if not result.has_errors:
        problems += _reachability_warnings(graph, source, target)
        result = Inspection(problems, source, target, order)
    for array in (source, target, order):
        array.setflags(write=False)
    graph.remember_inspection(result)
    return result


def _unit_numbers(graph: Graph, number: dict[str, int]) -> tuple[IntArray, IntArray]:
    """The unit number at each end of each edge, -1 for an id that names no unit."""
    numbering = graph.edges.numbering
    if numbering is not None:  # each distinct id looked up once, not once per edge end
        of_id = _numbers(numbering.ids, number)
        return of_id[numbering.source_id], of_id[numbering.target_id]
    return _numbers(graph.edges.sources, number), _numbers(graph.edges.targets, number)


def _numbers(ids: Sequence[str], number: dict[str, int]) -> IntArray:
    return np.fromiter(map(number.get, ids, repeat(-1)), dtype=np.int64, count=len(ids))


def _unit_problems(graph: Graph) -> list[Problem]:
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for index, unit in enumerate(graph.units):
        here = f"/units/{index}"  # pointer("units", index), without its escaping, once a unit
        if unit.id in first_index:
            first = pointer("units", first_index[unit.id])
            message = f"duplicate unit id '{unit.id}'; it is already used at {first}"
            problems.append(Problem("DAG021", message, f"{here}/id"))
        else:
            first_index[unit.id] = index
        if unit.role == "input":
            for key in ("activation", "bias"):
                if getattr(unit, key) is not None:
                    message = (
                        f"input unit '{unit.id}' has {'an' if key == 'activation' else 'a'} "
                        f"{key}; inputs pass their data through unchanged, so remove '{key}'"
                    )
                    problems.append(Problem("DAG026", message, f"{here}/{key}"))
        elif unit.activation is not None and unit.activation not in ACTIVATION_NAMES:
            message = (
                f"unknown activation '{unit.activation}'"
                f"{did_you_mean(unit.activation, ACTIVATION_NAMES)}; "
                f"known activations are {', '.join(ACTIVATION_NAMES)}"
            )
            problems.append(Problem("DAG020", message, f"{here}/activation"))
    for role, code in (("input", "DAG027"), ("output", "DAG028")):
        if not any(unit.role == role for unit in graph.units):
            message = f'the graph has no {role} unit; give at least one unit "role": "{role}"'
            problems.append(Problem(code, message, "/units"))
    return problems


def _edge_problems(
    graph: Graph, number: dict[str, int], source: IntArray, target: IntArray
) -> list[Problem]:
    """Unknown units, self-loops, repeated edges and edges into inputs, in file order.

    The rules are tested on the arrays; only the edges that break one are looked at one by one.
    """
    edges, n_units = graph.edges, len(graph.units)
    known = (source >= 0) & (target >= 0)
    first = _first_of_pair(n_units, source, target, known & (source != target))
    # (A unit past the last, for unknown targets: a file may name edges but no units.)
    is_input = np.array([unit.role == "input" for unit in graph.units] + [False], dtype=bool)
    into_input = is_input[np.where(target >= 0, target, n_units)]
    repeated = first != np.arange(len(first))
    suspects = np.flatnonzero(~known | (source == target) | repeated | into_input)
    problems: list[Problem] = []
    names = Suggestions(number)
    first_unknown: dict[tuple[str, str], int] = {}
    for index in suspects.tolist():
        here = pointer("edges", index)
        edge = edges[index]
        for end in ("source", "target"):
            name = getattr(edge, end)
            if name not in number:
                problems.append(Problem("DAG022", _unknown_unit(name, names), f"{here}/{end}"))
        if edge.source == edge.target:
            message = f"edge from unit '{edge.source}' to itself; a unit cannot feed itself"
            problems.append(Problem("DAG024", message, here))
        else:
            earlier = (
                first[index]
                if known[index]
                else first_unknown.setdefault((edge.source, edge.target), index)
            )
            if earlier != index:
                message = (
                    f"edge {edge.source} -> {edge.target} appears again; "
                    f"it is already at {pointer('edges', earlier)}"
                )
                problems.append(Problem("DAG023", message, here))
        if into_input[index]:
            message = (
                f"edge into input unit '{edge.target}'; inputs take their values from the data"
            )
            problems.append(Problem("DAG025", message, f"{here}/target"))
    return problems


def _first_of_pair(n_units: int, source: IntArray, target: IntArray, among: BoolArray) -> IntArray:
    """For each edge, the first edge ``among`` those given that joins the same two units (itself
    for the first one, and for edges not among them)."""
    first = np.arange(len(source))
    chosen = np.flatnonzero(among)
    ordered = chosen[topology.edge_order(n_units, source[chosen], target[chosen])]
    run_start = np.ones(len(ordered), dtype=bool)
    run_start[1:] = (source[ordered[1:]] != source[ordered[:-1]]) | (
        target[ordered[1:]] != target[ordered[:-1]]
    )
    # A stable sort keeps file order within a run, so its start is the first in the file.
    first[ordered] = ordered[run_start][np.cumsum(run_start) - 1]
    return first


def _unknown_unit(name: str, known: Suggestions) -> str:
    message = f"unknown unit '{name}'{known.did_you_mean(name)}"
    if not known.choices:
        return f"{message}; the file lists no units"
    return f"{message}; known units are {listing(known.choices)}"


def _cycle_problems(
    graph: Graph, order: IntArray, source: IntArray, target: IntArray
) -> list[Problem]:
    """One problem per strongly connected component: each needs at least one edge removed.

    Only the units the topological order could not place are handed to networkx, with the
    edges among them in file order: every cycle lies among them.
    """
    import networkx as nx  # only to explain a cycle: not worth its import time on every load

    stuck = np.ones(len(graph.units), dtype=bool)
    stuck[order] = False
    among = stuck[source] & stuck[target]
    ids = [unit.id for unit in graph.units]
    digraph = nx.DiGraph()
    digraph.add_nodes_from(ids[u] for u in np.flatnonzero(stuck).tolist())
    digraph.add_edges_from(
        (ids[s], ids[t])
        for s, t in zip(source[among].tolist(), target[among].tolist(), strict=True)
    )
    file_order = {unit.id: index for index, unit in reversed(list(enumerate(graph.units)))}
    edge_index = {}
    edges = graph.edges
    for index in reversed(range(len(edges))):
        edge_index[edges.sources[index], edges.targets[index]] = index
    cycles = []
    for component in nx.strongly_connected_components(digraph):
        if len(component) < 2:
            continue
        start = min(component, key=file_order.__getitem__)
        path = [u for u, _ in nx.find_cycle(digraph.subgraph(component), source=start)]
        first = path.index(min(path, key=file_order.__getitem__))
        path = path[first:] + path[:first]
        cycles.append(path)
    cycles.sort(key=lambda path: file_order[path[0]])
    return [
        Problem(
            "DAG029",
            f"cycle {_cycle_text(path)}; remove one of these edges",
            pointer("edges", edge_index[path[0], path[1 % len(path)]]),
        )
        for path in cycles
    ]


CYCLE_UNITS_SHOWN = 20
"""A cycle message names at most this many units, then how many more the cycle has."""


def _cycle_text(path: list[str]) -> str:
    """``a -> b -> c -> a``, or for a long cycle its first units and how many more."""
    if len(path) <= CYCLE_UNITS_SHOWN:
        return " -> ".join([*path, path[0]])
    more = len(path) - CYCLE_UNITS_SHOWN
    return f"{' -> '.join(path[:CYCLE_UNITS_SHOWN])} -> … ({more} more units) -> {path[0]}"


def _reachability_warnings(graph: Graph, source: IntArray, target: IntArray) -> list[Problem]:
    n_units = len(graph.units)
    roles = [unit.role for unit in graph.units]
    inputs = np.array([r == "input" for r in roles]).nonzero()[0]
    outputs = np.array([r == "output" for r in roles]).nonzero()[0]
    fed = topology.reachable(n_units, source, target, inputs)
    useful = topology.reachable(n_units, target, source, outputs)
    problems = []
    for index in np.flatnonzero(~fed | ~useful).tolist():
        unit, here = graph.units[index], pointer("units", index)
        if not fed[index]:
            message = f"no input reaches unit '{unit.id}'; its value is a constant"
            problems.append(Problem("DAG101", message, here, severity="warning"))
        if not useful[index]:
            message = f"unit '{unit.id}' reaches no output; it cannot affect the loss"
            problems.append(Problem("DAG102", message, here, severity="warning"))
    return problems
