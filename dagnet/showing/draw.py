"""Pictures of a network and of its training: Graphviz DOT text, and SVG or PNG with matplotlib.

The layout puts each unit in the column of its level (:meth:`dagnet.engine.plan.Plan.levels`),
so inputs are on the left and every edge points right; an output unit that feeds nothing is
moved to the last column, so the outputs end the picture. Each unit is labelled with its id and
activation; an edge is blue for a positive weight and red for a negative one, as wide as its
weight is large next to the largest, and grey and dashed while it has no weight yet.

Networks of hundreds of units get a layout of their own (:func:`grid_layout`): a level taller
than the picture is wrapped into several columns, and when the columns make the picture too
wide they are folded into bands, one under the other, so that its sides stay within 3:1 of each
other. Edges are straight (so every edge lies inside the canvas, between two units that do),
thinner and fainter the more of them there are; labels shrink with the spacing of the units
and, below a legible size, only every k-th unit is labelled, which a note on the picture says.
:func:`selection` keeps only the edges above a weight, or the neighbourhood of one unit.

matplotlib is an optional extra (``pip install 'dagnet[plot]'``); DOT text needs nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
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
    "Scene",
    "edge_styles",
    "figure",
    "grid_layout",
    "layout",
    "loss_curve",
    "picture",
    "require_matplotlib",
    "selection",
    "to_dot",
]

POSITIVE, NEGATIVE, UNTRAINED = "#1f77b4", "#d62728", "#999999"
ROLE_COLOURS = {"input": "#cfe8cf", "hidden": "#e8e8e8", "output": "#fbd9b0"}
PICTURE_FORMATS = ("svg", "png")

LARGE = 40
"""Networks of more units than this are drawn with :func:`grid_layout`."""
MAX_ASPECT = 3.0
"""The largest ratio of a large picture's long side to its short one."""
MAX_INCHES, DPI = 16.0, 100
"""A large picture's long side, and the PNG resolution."""
MARGIN, NOTE, NOTE_INCHES = 0.8, 0.0, 0.22
"""Room around a large picture's units, and below them for its note, in unit spacings."""
LEGIBLE = 5.0
"""The smallest label font size in points; below it labels are thinned."""


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
        for row, p in enumerate(members.tolist()):
            place[plan.unit_ids[p]] = (float(column), (len(members) - 1) / 2 - row)
    return {unit.id: place[unit.id] for unit in graph.units}


def selection(
    graph: Graph,
    min_weight: float | None = None,
    around: str | None = None,
    radius: int = 1,
) -> tuple[list[str], list[int]]:
    """The units and edges (file indices) a picture keeps.

    ``min_weight`` keeps only the edges with |w| ≥ it (edges without a weight go); ``around``
    keeps the units within ``radius`` edges of that unit, either way, and the edges among them.
    Units left without an edge are kept only when no filter removed their edges.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.load_graph("graphs/multi_output.json")
    >>> selection(graph, around="j")
    (['i', 'j', 'o'], [1, 3])
    """
    ids = [unit.id for unit in graph.units]
    sources, targets = graph.edges.sources, graph.edges.targets
    weights = graph.edges.weights
    kept = set(ids)
    if around is not None:
        if around not in kept:
            raise DagnetError(f"there is no unit '{around}' to draw around")
        kept = {around}
        for _ in range(radius):
            near = {t for s, t in zip(sources, targets, strict=True) if s in kept}
            near |= {s for s, t in zip(sources, targets, strict=True) if t in kept}
            kept |= near
    edges = [
        index
        for index, (s, t, w) in enumerate(zip(sources, targets, weights, strict=True))
        if s in kept
        and t in kept
        and (min_weight is None or (w is not None and abs(w) >= min_weight))
    ]
    if min_weight is not None:
        touched = {sources[e] for e in edges} | {targets[e] for e in edges}
        kept = (kept & touched) if around is None else kept
    return [unit for unit in ids if unit in kept], edges


def grid_layout(
    graph: Graph, units: list[str] | None = None
) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Positions of the ``units`` (default: all) for a large picture, and its width and height.

    Each level is a column, as in :func:`layout`, but a level of more than R units is wrapped
    into several columns of at most R, and when the columns are too many for the height they
    are folded into bands stacked top to bottom; R and the band width are chosen so that the
    picture's sides are as near equal as they can be, and within 3:1. Units are one apart.

    Examples
    --------
    >>> import dagnet
    >>> place, width, height = grid_layout(dagnet.load_graph("graphs/multi_output.json"))
    >>> place["x"], place["o"], width, height
    ((0.0, -0.5), (2.0, -3.5), 3.0, 5.0)
    """
    plan = compile_plan(graph)
    level = plan.levels()
    sinks = np.diff(plan.out_start) == 0
    level[plan.output_positions[sinks[plan.output_positions]]] = level.max()
    chosen = set(plan.unit_ids) if units is None else set(units)
    positions = [p for p in range(plan.n_units) if plan.unit_ids[p] in chosen]
    levels = sorted({int(level[p]) for p in positions})
    members = [[p for p in positions if level[p] == c] for c in levels]
    sizes = np.array([len(m) for m in members])
    gap = 1.0  # between the columns of two levels, beyond the unit spacing
    # Within 3:1, the fewest wrapped levels (the most rows); else the squarest.
    best: tuple[float, int, int] | None = None
    fits: tuple[int, float, int] | None = None
    for rows in range(1, int(sizes.max()) + 1):
        wraps = -(-sizes // rows)
        n_columns = int(wraps.sum())
        for bands in range(1, n_columns + 1):
            per_band = -(-n_columns // bands)
            width = per_band + gap * (min(len(levels), per_band) - 1)
            height = bands * rows + (bands - 1) * gap
            # as the figure will be, with its margins and the note under the units
            score = abs(np.log((width - 1 + 2 * MARGIN) / (height - 1 + 2 * MARGIN + NOTE)))
            if best is None or score < best[0] - 1e-9:
                best = (score, rows, bands)
            if score <= np.log(MAX_ASPECT * 0.97) and (fits is None or (rows, -score) > fits[:2]):
                fits = (rows, -score, bands)
            if width < height:
                break
    assert best is not None
    _, rows, bands = best if fits is None else (0.0, fits[0], fits[2])
    columns: list[tuple[int, list[int]]] = []  # (level index, positions)
    for index, group in enumerate(members):
        for lo in range(0, len(group), rows):
            columns.append((index, group[lo : lo + rows]))
    per_band = -(-len(columns) // bands)
    place: dict[str, tuple[float, float]] = {}
    width = height = 0.0
    for c, (_, group) in enumerate(columns):
        band, k = divmod(c, per_band)
        # a new level starts after a gap, within its band
        first = band * per_band
        x = k + gap * sum(1 for i in range(first + 1, c + 1) if columns[i][0] != columns[i - 1][0])
        top = band * (rows + gap)
        for r, p in enumerate(group):
            y = -(top + r + (rows - len(group)) / 2)
            place[plan.unit_ids[p]] = (float(x), float(y))
        width = max(width, x + 1)
        height = max(height, top + rows)
    return {u: place[u] for u in (units or list(plan.unit_ids)) if u in place}, width, height


@dataclass(frozen=True)
class Scene:
    """What a large picture shows: its size in inches and how its labels were thinned."""

    width: float
    height: float
    units: int
    edges: int
    label_every: int
    font_size: float


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


def picture(
    graph: Graph,
    fmt: str,
    *,
    min_weight: float | None = None,
    around: str | None = None,
    radius: int = 1,
) -> bytes:
    """The network drawn by matplotlib, as the bytes of an ``svg`` or ``png`` file.

    ``min_weight``, ``around`` and ``radius`` choose what is drawn, as :func:`selection`.

    Examples
    --------
    >>> import dagnet
    >>> picture(dagnet.load_graph("graphs/xor.json"), "png")[:4]
    b'\\x89PNG'
    """
    matplotlib = require_matplotlib(f"drawing a .{fmt} picture")
    filtered = min_weight is not None or around is not None
    if filtered or len(graph.units) > LARGE:
        drawn, _ = figure(graph, min_weight=min_weight, around=around, radius=radius)
        return _save(matplotlib, drawn, fmt)
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch

    place = layout(graph)
    columns = max(x for x, _ in place.values()) + 1
    rows = max(abs(y) for _, y in place.values()) * 2 + 1
    canvas = Figure(figsize=(1.2 + 1.8 * columns, 0.6 + 1.3 * rows))
    axes = canvas.add_axes((0, 0, 1, 1))
    axes.set_xlim(-0.6, columns - 0.4)
    axes.set_ylim(-rows / 2 - 0.1, rows / 2 + 0.1)
    axes.set_aspect("equal")
    axes.axis("off")
    rim = 0.3
    for edge, (colour, width, dashed) in zip(graph.edges, edge_styles(graph), strict=True):
        start, end = np.array(place[edge.source]), np.array(place[edge.target])
        # Shortened by the circles' radius so that the arrow ends on the target's rim.
        along = (end - start) / np.linalg.norm(end - start) * rim
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
        axes.add_patch(Circle((x, y), rim, facecolor=ROLE_COLOURS[unit.role], ec="#555555"))
        label = f"{unit.id}\n{unit.effective_activation or 'input'}"
        axes.text(x, y, label, ha="center", va="center", fontsize=8)
    return _save(matplotlib, canvas, fmt)


def figure(
    graph: Graph,
    *,
    min_weight: float | None = None,
    around: str | None = None,
    radius: int = 1,
) -> tuple[Any, Scene]:
    """The matplotlib Figure of a large picture (:func:`grid_layout`), and what it shows.

    Examples
    --------
    >>> import dagnet
    >>> drawn, scene = figure(dagnet.load_graph("graphs/xor.json"))
    >>> scene.units, scene.edges, scene.label_every
    (5, 9, 1)
    """
    require_matplotlib("drawing a picture")
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    units, edge_indices = selection(graph, min_weight, around, radius)
    if not units:
        raise DagnetError(f"no edge has a weight of at least {min_weight:g}; nothing to draw")
    place, width, height = grid_layout(graph, units)
    margin = MARGIN
    span_x, span_y = width - 1 + 2 * margin, height - 1 + 2 * margin + NOTE
    scale = (MAX_INCHES - NOTE_INCHES) / max(span_x, span_y, 2.0)  # inches per unit of layout
    size = (span_x * scale, span_y * scale)
    size = (size[0], size[1] + NOTE_INCHES)
    drawn = Figure(figsize=size, dpi=DPI)
    axes = drawn.add_axes((0, NOTE_INCHES / size[1], 1, 1 - NOTE_INCHES / size[1]))
    axes.set_xlim(-margin, width - 1 + margin)
    axes.set_ylim(-(height - 1) - margin - NOTE, margin)
    axes.axis("off")
    styles = edge_styles(graph)
    n_edges = len(edge_indices)
    fade = float(np.clip(400 / max(n_edges, 1), 0.04, 0.9))
    thin = float(np.clip(60 / max(n_edges, 1) ** 0.5, 0.15, 1.0))
    by_style: dict[tuple[str, bool], list[Any]] = {}
    widths: dict[tuple[str, bool], list[float]] = {}
    for e in edge_indices:
        colour, line_width, dashed = styles[e]
        start, end = place[graph.edges.sources[e]], place[graph.edges.targets[e]]
        by_style.setdefault((colour, dashed), []).append((start, end))
        widths.setdefault((colour, dashed), []).append(line_width * thin)
    for (colour, dashed), segments in by_style.items():
        axes.add_collection(
            LineCollection(
                segments,
                colors=colour,
                linewidths=widths[(colour, dashed)],
                linestyles="--" if dashed else "-",
                alpha=fade,
                zorder=1,
            )
        )
    roles = {unit.id: unit for unit in graph.units}
    spacing = scale * 72  # points between neighbouring units
    radius_points = min(0.3 * spacing, 12.0)
    xs = np.array([place[u][0] for u in units])
    ys = np.array([place[u][1] for u in units])
    colours = [ROLE_COLOURS[roles[u].role] for u in units]
    axes.scatter(xs, ys, s=(radius_points * 2) ** 2 / 4, c=colours, edgecolors="#555555",
                 linewidths=0.5, zorder=2)  # fmt: skip
    longest = max(len(unit) for unit in units)
    font = min(8.0, 0.9 * spacing / (0.6 * max(longest, 3)))
    every = 1
    while font * every < LEGIBLE * 1.0 and every < len(units):
        every += 1
    font = max(font, LEGIBLE) if every > 1 else font
    with_activation = spacing >= 40
    for index, unit in enumerate(units):
        if index % every and roles[unit].role != "output":
            continue
        x, y = place[unit]
        label = unit
        if with_activation:
            label += f"\n{roles[unit].effective_activation or 'input'}"
        axes.text(x, y, label, ha="center", va="center", fontsize=font, zorder=3, clip_on=True)
    note = f"{graph.name or 'network'}: {len(units)} units, {n_edges} edges"
    if every > 1:
        note += f"; labels on 1 unit in {every} (and every output)"
    if filtered_note := _filter_note(min_weight, around, radius):
        note += f"; {filtered_note}"
    drawn.text(0.1 / size[0], 0.06 / size[1], note, fontsize=7, va="bottom", ha="left")
    return drawn, Scene(size[0], size[1], len(units), n_edges, every, font)


def _filter_note(min_weight: float | None, around: str | None, radius: int) -> str:
    parts = []
    if min_weight is not None:
        parts.append(f"edges with |w| ≥ {min_weight:g}")
    if around is not None:
        parts.append(f"within {radius} edge{'s' if radius != 1 else ''} of {around}")
    return ", ".join(parts)


def _bend(start: np.ndarray, end: np.ndarray) -> float:
    """An edge that skips a column bends outwards, so that it does not pass under a unit."""
    if end[0] - start[0] <= 1:
        return 0.0
    return 0.25 if start[1] + end[1] <= 0 else -0.25  # positive bends to the right: down


def loss_curve(
    epoch_loss: list[float],
    output_loss: dict[str, list[float]],
    fmt: str,
    validation_loss: list[float] | None = None,
) -> bytes:
    """The mean loss of each epoch, overall and per output unit (and over the validation data,
    when there is some), on a log scale.

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
    if validation_loss:
        axes.plot(
            epochs[: len(validation_loss)],
            validation_loss,
            color="black",
            linestyle="--",
            linewidth=1.5,
            label="validation loss",
        )
    if all(value > 0 for value in [*epoch_loss, *(validation_loss or [])]):
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
