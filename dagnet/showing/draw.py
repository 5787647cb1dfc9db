"""Pictures of a network and of its training: Graphviz DOT text, and SVG or PNG with matplotlib.

The layout puts each unit in the column of its level (:meth:`dagnet.engine.plan.Plan.levels`),
so inputs are on the left and every edge points right; an output unit that feeds nothing is
moved to the last column, so the outputs end the picture. Each unit is labelled with its id and
activation; an edge is blue for a positive weight and red for a negative one, as wide as its
weight is large next to the largest, and grey and dashed while it has no weight yet.

matplotlib is an optional extra (``pip install 'dagnet[plot]'``); DOT text needs nothing.
"""

from __future__ import annotations

import io
from types import ModuleType
from typing import Any

import numpy as np

from dagnet.engine.plan import compile_plan
from dagnet.errors import DagnetError, visible
from dagnet.graph.model import Graph

__all__ = [
    "PICTURE_FORMATS",
    "ROLE_COLOURS",
    "PlotUnavailable",
    "edge_styles",
    "layout",
    "loss_curve",
    "picture",
    "require_matplotlib",
    "to_dot",
]

POSITIVE, NEGATIVE, UNTRAINED = "#1f77b4", "#d62728", "#999999"
ROLE_COLOURS = {"input": "#cfe8cf", "hidden": "#e8e8e8", "output": "#fbd9b0"}
PICTURE_FORMATS = ("svg", "png")


class PlotUnavailable(DagnetError):
    """matplotlib, the optional extra ``plot``, is not installed."""


def layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """(column, row) of every unit: the column is its level, rows are centred on 0.

    Examples
    --------
    >>> import dagnet
    >>> layout(dagnet.load_graph("graphs/multi_output.json"))
    {'x': (0.0, 0.0), 'i': (1.0, 0.0), 'j': (2.0, 0.5), 'k': (2.0, -0.5), 'o': (3.0, 0.0)}
    """
    plan = compile_plan(graph)
    level = plan.levels()
    sinks = np.diff(plan.out_start) == 0
    level[plan.output_positions[sinks[plan.output_positions]]] = level.max()
    place: dict[str, tuple[float, float]] = {}
    for column in range(int(level.max()) + 1):
        members = np.flatnonzero(level == column)  # in execution order
        for row, p in enumerate(members):
            place[plan.unit_ids[p]] = (float(column), (len(members) - 1) / 2 - row)
    return {unit.id: place[unit.id] for unit in graph.units}


def edge_styles(graph: Graph) -> list[tuple[str, float, bool]]:
    """(colour, width, dashed) of each edge in file order; width from 0.5 to 4."""
    weights = [edge.weight for edge in graph.edges]
    largest = max((abs(w) for w in weights if w is not None), default=0.0)
    styles = []
    for weight in weights:
        if weight is None:
            styles.append((UNTRAINED, 1.0, True))
        else:
            share = abs(weight) / largest if largest > 0 else 0.0
            styles.append((POSITIVE if weight >= 0 else NEGATIVE, 0.5 + 3.5 * share, False))
    return styles


def to_dot(graph: Graph) -> str:
    """The network as Graphviz DOT text, ranked by level from left to right.

    Examples
    --------
    >>> import dagnet
    >>> print(to_dot(dagnet.load_graph("graphs/one_path.json")).splitlines()[5])
      "i" [label="i\\ninput", fillcolor="#cfe8cf"];
    """
    place = layout(graph)
    # Control characters escaped first (a name is the user's text, and DOT files get printed).
    name = visible(graph.name or "network").replace("\\", "\\\\").replace('"', '\\"')
    lines = [
        f'digraph "{name}" {{',
        "  rankdir=LR;",
        '  node [shape=circle, style=filled, fontname="Helvetica", fontsize=10];',
        '  edge [arrowsize=0.6, fontname="Helvetica", fontsize=8];',
        "",
    ]
    for unit in graph.units:
        label = f"{unit.id}\\n{unit.effective_activation or 'input'}"
        lines.append(f'  "{unit.id}" [label="{label}", fillcolor="{ROLE_COLOURS[unit.role]}"];')
    lines.append("")
    for column in sorted({x for x, _ in place.values()}):
        members = " ".join(f'"{unit}";' for unit, (x, _) in place.items() if x == column)
        lines.append(f"  {{ rank=same; {members} }}")
    lines.append("")
    for edge, (colour, width, dashed) in zip(graph.edges, edge_styles(graph), strict=True):
        attributes = [f'color="{colour}"', f"penwidth={width:.2f}"]
        if dashed:
            attributes.append("style=dashed")
        else:
            attributes.append(f'label="{edge.weight:.3g}"')
        lines.append(f'  "{edge.source}" -> "{edge.target}" [{", ".join(attributes)}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def require_matplotlib(what: str) -> ModuleType:
    """matplotlib, or a :class:`PlotUnavailable` saying how to install it."""
    try:
        import matplotlib
        from matplotlib.figure import Figure  # noqa: F401  (fails when matplotlib is broken)
    except ImportError:
        raise PlotUnavailable(
            f"{what} needs matplotlib, which is not installed; install it with "
            "pip install 'dagnet[plot]'"
        ) from None
    return matplotlib


def picture(graph: Graph, fmt: str) -> bytes:
    """The network drawn by matplotlib, as the bytes of an ``svg`` or ``png`` file.

    Examples
    --------
    >>> import dagnet
    >>> picture(dagnet.load_graph("graphs/xor.json"), "png")[:4]
    b'\\x89PNG'
    """
    matplotlib = require_matplotlib(f"drawing a .{fmt} picture")
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch

    place = layout(graph)
    columns = max(x for x, _ in place.values()) + 1
    rows = max(abs(y) for _, y in place.values()) * 2 + 1
    figure = Figure(figsize=(1.2 + 1.8 * columns, 0.6 + 1.3 * rows))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-0.6, columns - 0.4)
    axes.set_ylim(-rows / 2 - 0.1, rows / 2 + 0.1)
    axes.set_aspect("equal")
    axes.axis("off")
    radius = 0.3
    for edge, (colour, width, dashed) in zip(graph.edges, edge_styles(graph), strict=True):
        start, end = np.array(place[edge.source]), np.array(place[edge.target])
        # Shortened by the circles' radius so that the arrow ends on the target's rim.
        along = (end - start) / np.linalg.norm(end - start) * radius
        arrow = FancyArrowPatch(
            tuple(start + along),
            tuple(end - along),
            arrowstyle="-|>",
            mutation_scale=12,
            shrinkA=0,
            shrinkB=0,
            color=colour,
            linewidth=width,
            linestyle="--" if dashed else "-",
            connectionstyle=f"arc3,rad={_bend(start, end)}",
        )
        axes.add_patch(arrow)
    for unit in graph.units:
        x, y = place[unit.id]
        axes.add_patch(Circle((x, y), radius, facecolor=ROLE_COLOURS[unit.role], ec="#555555"))
        label = f"{unit.id}\n{unit.effective_activation or 'input'}"
        axes.text(x, y, label, ha="center", va="center", fontsize=8)
    return _save(matplotlib, figure, fmt)


def _bend(start: np.ndarray, end: np.ndarray) -> float:
    """An edge that skips a column bends outwards, so that it does not pass under a unit."""
    if end[0] - start[0] <= 1:
        return 0.0
    return 0.25 if start[1] + end[1] <= 0 else -0.25  # positive bends to the right: down


def loss_curve(epoch_loss: list[float], output_loss: dict[str, list[float]], fmt: str) -> bytes:
    """The mean loss of each epoch, overall and per output unit, on a log scale.

    Examples
    --------
    >>> loss_curve([0.5, 0.2, 0.1], {"y": [0.5, 0.2, 0.1]}, "svg")[:5]
    b'<?xml'
    """
    matplotlib = require_matplotlib(f"drawing a .{fmt} loss curve")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0))
    axes = figure.add_subplot()
    epochs = np.arange(1, len(epoch_loss) + 1)
    axes.plot(epochs, epoch_loss, color="black", linewidth=1.5, label="loss")
    if len(output_loss) > 1:
        for unit, values in output_loss.items():
            axes.plot(epochs, values, linewidth=1, label=f"output {unit}")
    if all(value > 0 for value in epoch_loss):
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("mean loss E")
    axes.legend()
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    return _save(matplotlib, figure, fmt)


def _save(matplotlib: Any, figure: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # A fixed salt and no date make the same network give the same SVG, fit to commit.
    metadata = {"Date": None} if fmt == "svg" else {}
    with matplotlib.rc_context({"svg.hashsalt": "dagnet"}):
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
