"""The rules that relate the parts of a graph file to each other, checked with networkx.

:func:`check` takes a structurally valid :class:`~dagnet.schema.Graph` and returns every problem
it finds, not only the first: duplicate unit ids, unknown activations, edges that name unknown
units, duplicate edges, self-loops, edges into inputs, activations or biases on inputs, a missing
input or output role, and cycles (one per strongly connected component, printed as a path). When
the graph is otherwise valid it also warns about units that no input reaches and units that reach
no output: legal, but rarely what was meant.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from dagnet.errors import Problem
from dagnet.jsontext import pointer
from dagnet.schema import ACTIVATION_NAMES, Graph


@dataclass(frozen=True)
class Inspection:
    """What checking a graph found, and the directed graph it was checked on.

    ``digraph`` has one node per distinct unit id, in file order, and one edge per distinct
    edge between known units; it is acyclic exactly when no problem has code ``DAG029``.
    """

    problems: list[Problem]
    digraph: nx.DiGraph

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
    >>> from dagnet.schema import Graph
    >>> g = Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "z"}]})
    >>> [p.message for p in check(g)]
    ["unknown unit 'z'; known units are x, y"]
    """
    return inspect(graph).problems


def inspect(graph: Graph) -> Inspection:
    """Like :func:`check`, also returning the networkx graph the rules were checked on."""
    problems = _unit_problems(graph) + _edge_problems(graph)
    digraph = _digraph(graph)
    cycles = _cycle_problems(graph, digraph)
    problems += cycles
    if not any(p.is_error for p in problems):
        problems += _reachability_warnings(graph, digraph)
    return Inspection(problems, digraph)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word``, if any is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    guess = closest(word, choices)
    return f" (did you mean '{guess}'?)" if guess else ""


def _unit_problems(graph: Graph) -> list[Problem]:
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for index, unit in enumerate(graph.units):
        here = pointer("units", index)
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
                f"{_did_you_mean(unit.activation, ACTIVATION_NAMES)}; "
                f"known activations are {', '.join(ACTIVATION_NAMES)}"
            )
            problems.append(Problem("DAG020", message, f"{here}/activation"))
    for role, code in (("input", "DAG027"), ("output", "DAG028")):
        if not any(unit.role == role for unit in graph.units):
            message = f'the graph has no {role} unit; give at least one unit "role": "{role}"'
            problems.append(Problem(code, message, "/units"))
    return problems


def _edge_problems(graph: Graph) -> list[Problem]:
    problems: list[Problem] = []
    role = {}
    for unit in graph.units:
        role.setdefault(unit.id, unit.role)
    known = list(role)
    first_index: dict[tuple[str, str], int] = {}
    for index, edge in enumerate(graph.edges):
        here = pointer("edges", index)
        for end in ("source", "target"):
            name = getattr(edge, end)
            if name not in role:
                problems.append(Problem("DAG022", _unknown_unit(name, known), f"{here}/{end}"))
        if edge.source == edge.target:
            message = f"edge from unit '{edge.source}' to itself; a unit cannot feed itself"
            problems.append(Problem("DAG024", message, here))
        elif (edge.source, edge.target) in first_index:
            first = pointer("edges", first_index[edge.source, edge.target])
            message = f"edge {edge.source} -> {edge.target} appears again; it is already at {first}"
            problems.append(Problem("DAG023", message, here))
        else:
            first_index[edge.source, edge.target] = index
        if role.get(edge.target) == "input":
            message = (
                f"edge into input unit '{edge.target}'; inputs take their values from the data"
            )
            problems.append(Problem("DAG025", message, f"{here}/target"))
    return problems


def _unknown_unit(name: str, known: Sequence[str]) -> str:
    message = f"unknown unit '{name}'{_did_you_mean(name, known)}"
    if len(known) <= 12:
        message += f"; known units are {', '.join(known)}"
    return message


def _digraph(graph: Graph) -> nx.DiGraph:
    digraph = nx.DiGraph()
    digraph.add_nodes_from(unit.id for unit in graph.units)
    digraph.add_edges_from(
        (edge.source, edge.target)
        for edge in graph.edges
        if edge.source != edge.target and edge.source in digraph and edge.target in digraph
    )
    return digraph


def _cycle_problems(graph: Graph, digraph: nx.DiGraph) -> list[Problem]:
    """One problem per strongly connected component: each needs at least one edge removed."""
    if nx.is_directed_acyclic_graph(digraph):
        return []
    file_order = {unit.id: index for index, unit in reversed(list(enumerate(graph.units)))}
    edge_index = {}
    for index, edge in reversed(list(enumerate(graph.edges))):
        edge_index[edge.source, edge.target] = index
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
            f"cycle {' -> '.join([*path, path[0]])}; remove one of these edges",
            pointer("edges", edge_index[path[0], path[1 % len(path)]]),
        )
        for path in cycles
    ]


def _reachable(neighbours: dict[str, dict], starts: Iterable[str]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in neighbours[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _reachability_warnings(graph: Graph, digraph: nx.DiGraph) -> list[Problem]:
    inputs = [u.id for u in graph.units if u.role == "input"]
    outputs = [u.id for u in graph.units if u.role == "output"]
    fed = _reachable(digraph.succ, inputs)
    useful = _reachable(digraph.pred, outputs)
    problems = []
    for index, unit in enumerate(graph.units):
        here = pointer("units", index)
        if unit.id not in fed:
            message = f"no input reaches unit '{unit.id}'; its value is a constant"
            problems.append(Problem("DAG101", message, here, severity="warning"))
        if unit.id not in useful:
            message = f"unit '{unit.id}' reaches no output; it cannot affect the loss"
            problems.append(Problem("DAG102", message, here, severity="warning"))
    return problems
