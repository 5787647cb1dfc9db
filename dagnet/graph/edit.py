"""Building and editing graphs in Python: units and edges added and removed, without JSON.

A :class:`GraphBuilder` holds a graph being made or changed: from nothing, from a
:class:`~dagnet.graph.model.Graph`, or from a trained :class:`~dagnet.engine.network.Network`
(with its current weights). Besides adding and removing units and edges it makes the two
changes that grow networks: :meth:`GraphBuilder.split_edge` (NEAT's add-node mutation) and
:meth:`GraphBuilder.grow` (cascade growth: a new unit whose out-edges start at weight 0, so the
network computes what it did). Every existing weight and bias is kept as it is. :meth:`build`
validates the result with the same rules, problem codes and messages as a graph file (the
pointers are into the file the builder would write), and raises them all at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from dagnet.engine.network import Network
from dagnet.errors import GraphFileError, Problem
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import validate_document

__all__ = ["GraphBuilder"]


class GraphBuilder:
    """A graph under construction; :meth:`build` turns it into a validated :class:`Graph`.

    Parameters
    ----------
    start : Graph or Network, optional
        What to start from; a Network gives its current weights and biases.
    name : str, optional
        The graph's name (default: the start's).

    Examples
    --------
    >>> b = GraphBuilder(name="tiny")
    >>> b.add_input("x").add_output("y").add_edge("x", "y", 0.5)
    GraphBuilder('tiny': 2 units, 1 edge)
    >>> b.split_edge("x", "y", "h", activation="identity")  # NEAT's add-node
    GraphBuilder('tiny': 3 units, 2 edges)
    >>> [(e.source, e.target, e.weight) for e in b.build().edges]
    [('x', 'h', 1.0), ('h', 'y', 0.5)]
    """

    def __init__(self, start: Graph | Network | None = None, *, name: str | None = None) -> None:
        graph = start.to_graph() if isinstance(start, Network) else start
        self._sections: dict[str, Any] = {}
        self._units: dict[str, dict[str, Any]] = {}
        self._edges: dict[tuple[str, str], float | None] = {}
        if graph is not None:
            dumped = graph.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
            self._sections = {k: v for k, v in dumped.items() if k not in ("units", "edges")}
            self._sections.pop("trained", None)  # an edited network is not the trained one
            for unit in graph.units:
                self._units[unit.id] = unit.model_dump(exclude_none=True)
            for edge in graph.edges:
                self._edges[edge.source, edge.target] = edge.weight
        if name is not None:
            self._sections["name"] = name

    def __repr__(self) -> str:
        n_units, n_edges = len(self._units), len(self._edges)
        return (
            f"GraphBuilder({self._sections.get('name', '')!r}: {n_units} unit"
            f"{'' if n_units == 1 else 's'}, {n_edges} edge{'' if n_edges == 1 else 's'})"
        )

    @property
    def unit_ids(self) -> list[str]:
        """The unit ids, in the order the file would list them."""
        return list(self._units)

    @property
    def edge_pairs(self) -> list[tuple[str, str]]:
        """The (source, target) of every edge, in the order the file would list them."""
        return list(self._edges)

    def weight(self, source: str, target: str) -> float | None:
        """The weight of the edge source → target (None when it has none yet)."""
        return self._edges[self._edge(source, target)]

    def _edge(self, source: str, target: str) -> tuple[str, str]:
        if (source, target) not in self._edges:
            raise KeyError(f"there is no edge {source} -> {target}")
        return source, target

    def _unit(self, unit_id: str) -> dict[str, Any]:
        if unit_id not in self._units:
            raise KeyError(f"there is no unit {unit_id!r}")
        return self._units[unit_id]

    # Units

    def add_unit(
        self,
        unit_id: str,
        *,
        role: str = "hidden",
        activation: str | None = None,
        bias: float | None = None,
    ) -> GraphBuilder:
        """Add a unit (hidden by default); an id already there is an error at once."""
        if unit_id in self._units:
            raise ValueError(f"unit {unit_id!r} exists already")
        unit: dict[str, Any] = {"id": unit_id, "role": role}
        if activation is not None:
            unit["activation"] = activation
        if bias is not None:
            unit["bias"] = float(bias)
        self._units[unit_id] = unit
        return self

    def add_input(self, unit_id: str) -> GraphBuilder:
        """Add an input unit (the inputs' order is the order they are added in)."""
        return self.add_unit(unit_id, role="input")

    def add_output(
        self, unit_id: str, *, activation: str | None = None, bias: float | None = None
    ) -> GraphBuilder:
        """Add an output unit (identity by default)."""
        return self.add_unit(unit_id, role="output", activation=activation, bias=bias)

    def remove_unit(self, unit_id: str) -> GraphBuilder:
        """Remove a unit and every edge into or out of it."""
        self._unit(unit_id)
        del self._units[unit_id]
        self._edges = {k: w for k, w in self._edges.items() if unit_id not in k}
        return self

    def set_unit(self, unit_id: str, **attributes: Any) -> GraphBuilder:
        """Change a unit's ``activation``, ``bias`` or ``role`` (None removes the setting)."""
        unit = self._unit(unit_id)
        for key, value in attributes.items():
            if key not in ("activation", "bias", "role"):
                raise TypeError(f"a unit has no attribute {key!r}")
            if value is None:
                unit.pop(key, None)
            else:
                unit[key] = float(value) if key == "bias" else value
        return self

    # Edges

    def add_edge(self, source: str, target: str, weight: float | None = None) -> GraphBuilder:
        """Add the edge source → target; without a weight it is drawn from the run's seed."""
        if (source, target) in self._edges:
            raise ValueError(f"the edge {source} -> {target} exists already")
        self._edges[source, target] = None if weight is None else float(weight)
        return self

    def remove_edge(self, source: str, target: str) -> GraphBuilder:
        """Remove the edge source → target."""
        del self._edges[self._edge(source, target)]
        return self

    def set_weight(self, source: str, target: str, weight: float | None) -> GraphBuilder:
        """Set (or, with None, clear) the weight of the edge source → target."""
        self._edges[self._edge(source, target)] = None if weight is None else float(weight)
        return self

    # Growth

    def split_edge(
        self,
        source: str,
        target: str,
        new_id: str,
        *,
        activation: str | None = None,
        bias: float = 0.0,
    ) -> GraphBuilder:
        """NEAT's add-node: the edge source → target becomes source → new → target.

        As in NEAT, the edge into the new unit gets weight 1 and the edge out of it the old
        weight, so with an identity activation (and bias 0) the network computes what it did.
        """
        old = self.weight(source, target)
        self.remove_edge(source, target)
        self.add_unit(new_id, activation=activation, bias=bias)
        self.add_edge(source, new_id, 1.0)
        self.add_edge(new_id, target, old)
        return self

    def grow(
        self,
        new_id: str,
        sources: Iterable[str],
        targets: Iterable[str],
        *,
        activation: str | None = None,
        bias: float = 0.0,
        in_weights: Iterable[float] | None = None,
        seed: int | None = None,
    ) -> GraphBuilder:
        """Cascade growth: a new hidden unit fed by ``sources`` and feeding ``targets``.

        Its out-edges start at weight 0, so the network computes exactly what it did before
        (the loss is unchanged) and training then moves them. Its in-edges get ``in_weights``,
        or weights drawn uniformly from ±√(6 / (fan-in + fan-out)) with ``seed``.
        """
        sources, targets = list(sources), list(targets)
        if in_weights is None:
            limit = np.sqrt(6.0 / max(1, len(sources) + len(targets)))
            rng = np.random.default_rng(seed)
            in_weights = rng.uniform(-limit, limit, len(sources)).tolist()
        weights = list(in_weights)
        if len(weights) != len(sources):
            raise ValueError(f"{len(sources)} sources but {len(weights)} in_weights")
        self.add_unit(new_id, activation=activation, bias=bias)
        for source, weight in zip(sources, weights, strict=True):
            self.add_edge(source, new_id, weight)
        for target in targets:
            self.add_edge(new_id, target, 0.0)
        return self

    # Results

    def document(self) -> dict[str, Any]:
        """The graph file's document, as :func:`dagnet.save_graph` would write it."""
        return {
            "format_version": FORMAT_VERSION,
            **{k: v for k, v in self._sections.items() if k != "format_version"},
            "units": [dict(unit) for unit in self._units.values()],
            "edges": [
                {"source": s, "target": t, **({} if w is None else {"weight": w})}
                for (s, t), w in self._edges.items()
            ],
        }

    def check(self) -> list[Problem]:
        """Every problem of the graph as it stands (errors and warnings), as for a file."""
        return validate_document(self.document())[1]

    def build(self) -> Graph:
        """The validated graph.

        Raises
        ------
        GraphFileError
            With every error, each with its code, message and pointer into :meth:`document`
            (``/edges/2/target``), exactly as ``dagnet validate`` reports them for a file.
        """
        graph, problems = validate_document(self.document())
        if graph is None or any(p.is_error for p in problems):
            raise GraphFileError(None, problems)
        return graph

    def network(self, **options: Any) -> Network:
        """``Network(self.build(), **options)``."""
        return Network(self.build(), **options)
