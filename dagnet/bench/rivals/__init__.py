"""The same training step in other engines, for ``dagnet bench --compare`` to time against.

Each builder takes a :class:`~dagnet.engine.network.Network`, a fixed minibatch (unit-major, as the
engine keeps it: inputs ``x`` (input units, N) in ``net.input_ids`` order, targets ``y``
(output units, N) in ``net.output_ids`` order) and a learning rate η, copies the network's
parameters, and returns a :class:`Step`: calling it runs one step of the derivation on that
copy — forward, backward, and gradient descent w ← w − η ∂E/∂w with E the mean over the N
examples of ½ Σ_outputs (ŷ − y)² — exactly what ``dagnet.fit`` does with ``batch_size=N``.

- :func:`reference_step`: the plain-Python engine of :mod:`dagnet.showing.reference`, one unit
  and one example at a time.
- :func:`torch_index_step`: PyTorch autograd, level by level: gather each level's sources with
  ``index_select``, weight them, sum them into their targets with ``index_add``.
- :func:`torch_masked_step`: PyTorch autograd, one dense matrix product per level, the matrix
  holding the level's edges and zeros elsewhere; a fixed 0/1 mask keeps the zeros at zero.
- :func:`numpy_mlp_step`: a dense layered network (an MLP) as plain numpy matrix products, the
  limit that BLAS sets for networks that happen to be layers.

A *level* is the length of the longest path from the inputs to a unit: the units of one level
depend only on earlier levels, so a level is computed at once. The competitors are made as fast
as we honestly can (every index array built once, no Python work per unit or per edge inside a
step, updates in place), because a weak baseline would flatter dagnet. PyTorch is imported only
inside the PyTorch builders; its thread count is left to the caller (``torch.set_num_threads``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from dagnet.engine.network import Network
from dagnet.engine.plan import Plan
from dagnet.functions.activations import ACTIVATIONS, LEAKY_SLOPE
from dagnet.showing import reference

Array = NDArray[np.floating]
IntArray = NDArray[np.int64]
Parameters = tuple[NDArray[np.float64], NDArray[np.float64]]
ACTIVATION_NAMES = tuple(ACTIVATIONS)
"""Activation names by code (the order of :data:`dagnet.functions.activations.ACTIVATIONS`)."""


@dataclass(frozen=True)
class Step:
    """One training step of a network in some engine, on a fixed minibatch, ready to repeat.

    Attributes
    ----------
    name : str
        The engine and formulation, e.g. ``"torch-index"``.
    run : callable
        Runs one step: forward, backward and the update of the engine's own parameters.
    read : callable
        Returns the engine's current (weight, bias) as float64 arrays in the Plan's order.
    """

    name: str
    run: Callable[[], object]
    read: Callable[[], Parameters]

    def __call__(self) -> None:
        """One step on the fixed minibatch."""
        self.run()

    def parameters(self) -> Parameters:
        """(weight per edge, bias per unit) in the Plan's order, float64; inputs' biases are 0."""
        return self.read()


def torch_available() -> bool:
    """Whether PyTorch can be imported (it is the optional extra ``dagnet[compare]``)."""
    return importlib.util.find_spec("torch") is not None


def levels(plan: Plan) -> IntArray:
    """The level of every unit, in Plan order: the length of the longest path from an input.

    Inputs are level 0; any other unit is one level above its deepest source (level 1 when it
    has none). One pass in Plan order suffices, because every source comes before its target.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> dict(zip(net.plan.unit_ids, levels(net.plan).tolist()))
    {'x1': 0, 'x2': 0, 'h1': 1, 'h2': 2, 'y': 3}
    """
    level = plan.levels()
    level[plan.n_inputs :] = np.maximum(level[plan.n_inputs :], 1)
    return level


# The plain-Python reference engine


def reference_step(
    net: Network, x: NDArray[np.float64], y: NDArray[np.float64], learning_rate: float
) -> Step:
    """One step of :func:`dagnet.showing.reference.train_step`, one unit and one example at a time.

    Parameters
    ----------
    net : Network
        Its current weights and biases are copied.
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/one_path.json"))
    >>> step = reference_step(net, np.array([[0.5]]), np.array([[0.25]]), 0.1)
    >>> step()
    >>> weight, bias = step.parameters()
    >>> bool(np.all(weight != net.weight))  # the copy moved; the network did not
    True
    """
    ref = reference.ReferenceNetwork.from_graph(net.to_graph())
    inputs, targets = np.asarray(x).T.tolist(), np.asarray(y).T.tolist()
    ids = net.plan.unit_ids
    edges = [
        (ids[i], ids[j]) for i, j in zip(net.plan.in_source, net.plan.edge_target, strict=True)
    ]

    def read() -> Parameters:
        weight = np.array([ref.weight[edge] for edge in edges], dtype=np.float64)
        bias = np.array([ref.bias.get(unit, 0.0) for unit in ids], dtype=np.float64)
        return weight, bias

    return Step(
        "reference", lambda: reference.train_step(ref, inputs, targets, learning_rate), read
    )


# PyTorch autograd, level by level


@dataclass(frozen=True)
class _Layout:
    """Units renumbered level by level, so that each level is one contiguous block.

    Within a level, units are sorted by activation (each activation a contiguous run, so one
    call activates it) and then by Plan position.
    """

    level: IntArray  # per Plan position
    order: IntArray  # Plan positions in the new numbering
    rank: IntArray  # new number of each Plan position
    start: IntArray  # level L is numbers start[L] .. start[L + 1] - 1

    @property
    def depth(self) -> int:
        return len(self.start) - 2

    def runs(self, plan: Plan, level: int) -> list[tuple[str, int, int]]:
        """(activation name, first, end) of each run of one activation in ``level``, local."""
        codes = plan.activation[self.order[self.start[level] : self.start[level + 1]]]
        edges = np.flatnonzero(np.diff(codes)) + 1
        bounds = [0, *edges.tolist(), len(codes)]
        return [(ACTIVATION_NAMES[codes[a]], a, b) for a, b in pairwise(bounds)]


def _layout(plan: Plan) -> _Layout:
    level = levels(plan)
    order = np.lexsort((np.arange(plan.n_units), plan.activation, level))
    rank = np.empty_like(order)
    rank[order] = np.arange(plan.n_units)
    start = np.searchsorted(level[order], np.arange(level.max() + 2))
    return _Layout(level, order, rank, start)


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "the PyTorch competitors need torch; install it with pip install 'dagnet[compare]'"
        ) from error
    return torch


def _torch_activations(torch: Any, dtype: Any) -> dict[str, Callable[[Any], Any]]:
    """f for every activation as PyTorch operations; autograd supplies f' (checked by tests:
    f'(0) is the left slope for relu and leaky_relu, as in dagnet)."""
    functional = torch.nn.functional
    zero = torch.zeros((), dtype=dtype)
    table: dict[str, Callable[[Any], Any]] = {
        "identity": lambda s: s,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda s: functional.leaky_relu(s, LEAKY_SLOPE),
        "elu": functional.elu,
        # ln(1 + e^s) without overflow, and with the exact derivative σ(s) (softplus's own
        # threshold would switch to s above 20).
        "softplus": lambda s: torch.logaddexp(s, zero),
        "gaussian": lambda s: torch.exp(-s * s),
        "sin": torch.sin,
    }
    # The rest as the table writes them over arrays, with the table's f' (not autograd's
    # subgradient of the formula, which differs at the kinks: |s| at 0).
    for name, entry in ACTIVATIONS.items():
        if name not in table:
            table[name] = _torch_function(torch, entry).apply
    _require_all(table, "PyTorch")
    return table


def _torch_function(torch: Any, entry: Any) -> Any:
    """A torch.autograd.Function computing ``entry``'s f forward and its f' backward."""

    class TableActivation(torch.autograd.Function):  # type: ignore[misc]
        @staticmethod
        def forward(ctx: Any, s: Any) -> Any:
            z = entry.array(s, torch)
            ctx.save_for_backward(s, z)
            return z

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            s, z = ctx.saved_tensors
            return grad * entry.array_derivative(s, z, torch)

    return TableActivation


def _require_all(table: dict[str, Any], engine: str) -> None:
    missing = [name for name in ACTIVATION_NAMES if name not in table]
    if missing:
        raise ValueError(f"activation {missing[0]!r} is not available in {engine}")


def _float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


class _TorchLevels:
    """What both PyTorch formulations share: the layout, the biases per level, the activation
    runs, the inputs and targets as tensors, the loss and the update.

    A formulation supplies the net input of each level, ``s_L = b_L + Σ w z`` from the outputs
    z of earlier levels, and its weight tensors; :meth:`step` does the rest.
    """

    def __init__(self, net: Network, x: Array, y: Array, dtype: DTypeLike) -> None:
        torch = self.torch = _import_torch()
        self.plan = plan = net.plan
        self.layout = layout = _layout(plan)
        self.dtype = {np.float32: torch.float32, np.float64: torch.float64}[
            _float_dtype(dtype).type
        ]
        self.n = x.shape[1]
        self.x = self.tensor(x)
        activations = _torch_activations(torch, self.dtype)
        self.runs = [
            [(activations[name], a, b) for name, a, b in layout.runs(plan, level)]
            for level in range(layout.depth + 1)
        ]
        # Columns (units, 1), so that they broadcast over the N examples without a view op.
        self.biases = [
            self.tensor(net.bias[self.units(level), None], requires_grad=True)
            for level in range(1, layout.depth + 1)
        ]
        # Outputs grouped by level, each group with its rows of the targets.
        slot = np.arange(len(plan.output_positions))
        out_level = layout.level[plan.output_positions]
        self.outputs = [
            (
                level,
                self.index(layout.rank[plan.output_positions[slot[out_level == level]]]
                           - layout.start[level]),
                self.tensor(y[slot[out_level == level]]),
            )
            for level in np.unique(out_level).tolist()
        ]  # fmt: skip

    def units(self, level: int) -> IntArray:
        """Plan positions of the units of ``level``, in the new numbering's order."""
        return self.layout.order[self.layout.start[level] : self.layout.start[level + 1]]

    def tensor(self, values: Array, requires_grad: bool = False) -> Any:
        return self.torch.tensor(
            np.ascontiguousarray(values), dtype=self.dtype, requires_grad=requires_grad
        )

    def index(self, values: IntArray) -> Any:
        return self.torch.as_tensor(np.ascontiguousarray(values, dtype=np.int64))

    def activate(self, level: int, s: Any) -> Any:
        runs = self.runs[level]
        if len(runs) == 1:
            return runs[0][0](s)
        return self.torch.cat([f(s[a:b]) for f, a, b in runs])

    def loss(self, z: list[Any]) -> Any:
        """E = (1/N) Σ_n ½ Σ_outputs (ŷ − y)²."""
        total = sum(
            (z[level].index_select(0, rows) - targets).square().sum()
            for level, rows, targets in self.outputs
        )
        return total * (0.5 / self.n)

    def step(
        self,
        net_input: Callable[[int, list[Any]], Any],
        weights: list[Any],
        masks: list[Any] | None,
        learning_rate: float,
    ) -> Callable[[], None]:
        """The step: forward level by level, autograd backward, update in place."""
        torch, depth, x = self.torch, self.layout.depth, self.x
        biases, activate, loss_of = self.biases, self.activate, self.loss
        parameters = weights + biases
        n_weights = len(weights)

        def run() -> None:
            z = [x]
            for level in range(1, depth + 1):
                z.append(activate(level, net_input(level, z)))
            # A parameter the outputs do not depend on gets a zero gradient, as in dagnet.
            gradients = torch.autograd.grad(
                loss_of(z), parameters, allow_unused=True, materialize_grads=True
            )
            with torch.no_grad():
                # The multi-tensor ops torch.optim.SGD uses: one call updates every level.
                if masks is None:
                    torch._foreach_add_(parameters, gradients, alpha=-learning_rate)
                else:
                    torch._foreach_addcmul_(
                        weights, gradients[:n_weights], masks, value=-learning_rate
                    )
                    torch._foreach_add_(biases, gradients[n_weights:], alpha=-learning_rate)

        return run

    def read_biases(self) -> NDArray[np.float64]:
        bias = np.zeros(self.plan.n_units, dtype=np.float64)
        with self.torch.no_grad():
            values = self.torch.cat(self.biases).numpy()[:, 0] if self.biases else []
        bias[self.layout.order[self.layout.start[1] :]] = values
        return bias


def torch_index_step(
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike = np.float64,
) -> Step:
    """One step in PyTorch autograd, gathering and scattering each level's edges by index.

    Per level L: the outputs z of its edges' sources are gathered with ``index_select`` (one
    call per earlier level that feeds L), multiplied by the edge weights, and summed into the
    level's net inputs with ``index_add`` over the bias; then the level is activated.

    Parameters
    ----------
    net : Network
        Its current weights and biases are copied (in ``dtype``).
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.
    dtype : float64 or float32

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    """
    levels_ = _TorchLevels(net, x, y, dtype)
    plan, layout, torch = net.plan, levels_.layout, levels_.torch
    target = plan.edge_target
    source_level, target_level = layout.level[plan.in_source], layout.level[target]
    # Edges grouped by target level, then by source level (each group reads one level's z),
    # then by target: index_add then writes each row in turn, about 1.5x faster than by source.
    edge_order = np.lexsort((layout.rank[plan.in_source], layout.rank[target],
                             source_level, target_level))  # fmt: skip
    level_edges = np.searchsorted(target_level[edge_order], np.arange(layout.depth + 2))
    weights, plans = [], []
    for level in range(1, layout.depth + 1):
        edges = edge_order[level_edges[level] : level_edges[level + 1]]
        weights.append(levels_.tensor(net.weight[edges, None], requires_grad=True))
        targets = levels_.index(layout.rank[target[edges]] - layout.start[level])
        sources = []
        for earlier in np.unique(source_level[edges]).tolist():
            group = edges[source_level[edges] == earlier]
            ranks = layout.rank[plan.in_source[group]] - layout.start[earlier]
            sources.append((earlier, levels_.index(ranks)))
        plans.append((targets, sources, len(levels_.units(level))))
    n = levels_.n
    biases = levels_.biases

    def net_input(level: int, z: list[Any]) -> Any:
        targets, sources, width = plans[level - 1]
        bias = biases[level - 1].expand(width, n)
        if not sources:
            return bias
        gathered = [z[earlier].index_select(0, rows) for earlier, rows in sources]
        gathered = gathered[0] if len(gathered) == 1 else torch.cat(gathered)
        return bias.index_add(0, targets, gathered * weights[level - 1])

    def read() -> Parameters:
        weight = np.empty(plan.n_edges, dtype=np.float64)
        with torch.no_grad():
            weight[edge_order] = torch.cat(weights).numpy()[:, 0] if weights else []
        return weight, levels_.read_biases()

    return Step("torch-index", levels_.step(net_input, weights, None, learning_rate), read)


def torch_masked_step(
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike = np.float64,
) -> Step:
    """One step in PyTorch autograd, one dense masked matrix product per level.

    Level L holds a dense weight matrix (its units × the units of the earlier levels that feed
    it: from its shallowest source's level up to L − 1), with each edge's weight in its place
    and zeros elsewhere, and s_L = b_L + W_L z. A fixed 0/1 mask multiplies the gradient, so
    the zeros stay zero and only the edges learn.

    Parameters
    ----------
    net : Network
        Its current weights and biases are copied (in ``dtype``).
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.
    dtype : float64 or float32

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    """
    levels_ = _TorchLevels(net, x, y, dtype)
    plan, layout, torch = net.plan, levels_.layout, levels_.torch
    target = plan.edge_target
    source_level, target_level = layout.level[plan.in_source], layout.level[target]
    weights, masks, windows, places = [], [], [], []
    for level in range(1, layout.depth + 1):
        edges = np.flatnonzero(target_level == level)
        # The window of earlier levels this level reads; without edges, any one level will do.
        first = int(source_level[edges].min(initial=level - 1))
        columns = layout.start[level] - layout.start[first]
        rows = layout.rank[target[edges]] - layout.start[level]
        place = rows * columns + layout.rank[plan.in_source[edges]] - layout.start[first]
        matrix = np.zeros((len(levels_.units(level)), columns))
        matrix.flat[place] = net.weight[edges]
        weights.append(levels_.tensor(matrix, requires_grad=True))
        masks.append(levels_.tensor(_mask(matrix.shape, place)))
        windows.append(first)
        places.append((edges, place))
    biases = levels_.biases

    def net_input(level: int, z: list[Any]) -> Any:
        first = windows[level - 1]
        window = z[first] if first == level - 1 else torch.cat(z[first:level])
        return torch.addmm(biases[level - 1], weights[level - 1], window)

    def read() -> Parameters:
        weight = np.empty(plan.n_edges, dtype=np.float64)
        with torch.no_grad():
            for matrix, (edges, place) in zip(weights, places, strict=True):
                weight[edges] = matrix.numpy().ravel()[place]
        return weight, levels_.read_biases()

    return Step("torch-masked", levels_.step(net_input, weights, masks, learning_rate), read)


def _mask(shape: tuple[int, ...], place: IntArray) -> NDArray[np.float64]:
    mask = np.zeros(shape)
    mask.flat[place] = 1.0
    return mask


# A dense layered network as plain numpy matrix products


def _numpy_pair(entry: Any) -> tuple[Callable[..., None], Callable[..., None]]:
    """(f, scale) for the numpy rival from the table's array formulas (not in place: these
    activations are not the benchmark's)."""

    def f(s: Array, out: Array) -> None:
        out[...] = entry.array(s, np)

    def scale(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        delta *= entry.array_derivative(s, z, np)

    return f, scale


def _numpy_activations() -> dict[str, tuple[Callable[..., None], Callable[..., None]]]:
    """name → (f(s, out), scale(delta, s, z, scratch)): z = f(s) written into ``out``, and
    delta multiplied in place by f'(s), all without temporaries of a layer's size where numpy
    allows it. (Identity is handled by its caller: z is s, and delta stays.)"""

    def sigmoid(s: Array, out: Array) -> None:
        # σ(s) = (1 + tanh(s/2)) / 2: no overflow for any s, and in place.
        np.multiply(s, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5

    def scale_sigmoid(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        np.subtract(1.0, z, out=scratch)
        scratch *= z
        delta *= scratch

    def scale_tanh(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        np.multiply(z, z, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        delta *= scratch

    def elu(s: Array, out: Array) -> None:
        np.minimum(s, 0.0, out=out)
        np.expm1(out, out=out)
        np.copyto(out, s, where=s > 0.0)

    def scale_elu(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        np.minimum(s, 0.0, out=scratch)
        np.exp(scratch, out=scratch)
        np.multiply(delta, scratch, out=delta, where=s <= 0.0)

    def scale_softplus(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        sigmoid(s, scratch)
        delta *= scratch

    def gaussian(s: Array, out: Array) -> None:
        np.multiply(s, s, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)

    def scale_gaussian(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        np.multiply(s, z, out=scratch)
        scratch *= -2.0
        delta *= scratch

    def scale_sin(delta: Array, s: Array, z: Array, scratch: Array) -> None:
        np.cos(s, out=scratch)
        delta *= scratch

    def nothing(*arrays: Array) -> None:
        pass

    table: dict[str, tuple[Callable[..., None], Callable[..., None]]] = {
        "identity": (nothing, nothing),
        "sigmoid": (sigmoid, scale_sigmoid),
        "tanh": (lambda s, out: np.tanh(s, out=out), scale_tanh),
        "relu": (
            lambda s, out: np.maximum(s, 0.0, out=out),
            lambda delta, s, z, scratch: np.copyto(delta, 0.0, where=s <= 0.0),
        ),
        "leaky_relu": (
            # max(s, 0.01 s) is s for s > 0 and 0.01 s otherwise, since the slope is below 1.
            lambda s, out: np.maximum(s, np.multiply(s, LEAKY_SLOPE, out=out), out=out),
            lambda delta, s, z, scratch: np.multiply(delta, LEAKY_SLOPE, out=delta, where=s <= 0.0),
        ),
        "elu": (elu, scale_elu),
        "softplus": (lambda s, out: np.logaddexp(s, 0.0, out=out), scale_softplus),
        "gaussian": (gaussian, scale_gaussian),
        "sin": (lambda s, out: np.sin(s, out=out), scale_sin),
    }
    for name, entry in ACTIVATIONS.items():
        table.setdefault(name, _numpy_pair(entry))
    _require_all(table, "numpy")
    return table


@dataclass(frozen=True)
class _Layer:
    """One dense layer: weight matrix, bias, activation, and where its entries come from."""

    weight: Array  # (units, units of the layer below)
    bias: Array  # (units,)
    activation: str
    units: IntArray  # Plan positions of the rows
    edges: IntArray  # Plan edge of each entry of weight.flat listed in ``place``
    place: IntArray


def dense_layers(net: Network) -> list[tuple[IntArray, str]]:
    """The layers of ``net`` if it is a dense layered network (an MLP), else a ValueError.

    A dense layered network has every unit of level L fed by exactly the units of level L − 1,
    one activation per level, and its output units making up the last level.

    Returns
    -------
    list of (Plan positions, activation name)
        One entry per layer above the inputs; the last layer's units in output order.

    Raises
    ------
    ValueError
        Naming the first unit or level that breaks the rule.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/one_path.json"))
    >>> [(net.plan.unit_ids[p[0]], f) for p, f in dense_layers(net)]
    [('j', 'sigmoid'), ('k', 'sigmoid'), ('o', 'identity')]
    """
    plan, layout = net.plan, _layout(net.plan)
    ids, level, depth = plan.unit_ids, layout.level, layout.depth
    width = np.diff(layout.start)
    target = plan.edge_target
    skipping = np.flatnonzero(level[plan.in_source] != level[target] - 1)
    if len(skipping):
        p = skipping[0]
        raise ValueError(
            f"not a dense layered network: edge {ids[plan.in_source[p]]} -> {ids[target[p]]} "
            f"skips from level {level[plan.in_source[p]]} to level {level[target[p]]}"
        )
    fan_in = np.diff(plan.in_start)
    hidden = np.arange(plan.n_inputs, plan.n_units)
    partial = hidden[fan_in[hidden] != width[level[hidden] - 1]]
    if len(partial):
        j = partial[0]
        raise ValueError(
            f"not a dense layered network: unit {ids[j]} is fed by {fan_in[j]} of the "
            f"{width[level[j] - 1]} units of level {level[j] - 1}"
        )
    outputs = plan.output_positions
    if len(outputs) != width[depth] or np.any(level[outputs] != depth):
        raise ValueError(
            f"not a dense layered network: the output units "
            f"({', '.join(ids[p] for p in outputs)}) are not exactly the units of the last "
            f"level ({', '.join(ids[p] for p in layout.order[layout.start[depth] :])})"
        )
    layers = []
    for number in range(1, depth + 1):
        runs = layout.runs(plan, number)
        if len(runs) > 1:
            raise ValueError(
                f"not a dense layered network: level {number} mixes the activations "
                f"{', '.join(name for name, _, _ in runs)}"
            )
        units = (
            outputs
            if number == depth
            else layout.order[layout.start[number] : layout.start[number + 1]]
        )
        layers.append((np.asarray(units), runs[0][0]))
    return layers


def numpy_mlp_step(
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike = np.float64,
) -> Step:
    """One step of a dense layered network (an MLP) as numpy matrix products, layer by layer.

    s_L = W_L z_{L−1} + b_L and z_L = f_L(s_L) forward; δ_L = f'_L(s_L) ⊙ W_{L+1}ᵀ δ_{L+1}
    backward, from δ = f'(s) ⊙ (ŷ − y) at the outputs; then W_L −= (η/N) δ_L z_{L−1}ᵀ and
    b_L −= (η/N) Σ_n δ_L. Every state array is allocated once, when the step is built.

    Parameters
    ----------
    net : Network
        A dense layered network (see :func:`dense_layers`); its parameters are copied.
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.
    dtype : float64 or float32

    Raises
    ------
    ValueError
        When ``net`` is not a dense layered network.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/one_path.json"))
    >>> step = numpy_mlp_step(net, np.array([[0.5, 1.0]]), np.array([[0.5, 0.8]]), 0.1)
    >>> step()
    >>> weight, bias = step.parameters()
    >>> weight.shape, bias.shape
    ((3,), (4,))
    """
    dtype = _float_dtype(dtype)
    plan, activations = net.plan, _numpy_activations()
    below = np.arange(plan.n_inputs)
    layers = []
    for units, activation in dense_layers(net):
        # Row r of W_L is unit units[r]; column c is unit below[c]; each entry is one edge.
        row = np.empty(plan.n_units, dtype=np.int64)
        row[units] = np.arange(len(units))
        column = np.empty(plan.n_units, dtype=np.int64)
        column[below] = np.arange(len(below))
        edges = np.flatnonzero(np.isin(plan.edge_target, units))
        place = row[plan.edge_target[edges]] * len(below) + column[plan.in_source[edges]]
        weight = np.zeros((len(units), len(below)), dtype=dtype)
        weight.flat[place] = net.weight[edges]
        bias = np.ascontiguousarray(net.bias[units], dtype=dtype)
        layers.append(_Layer(weight, bias[:, None], activation, units, edges, place))
        below = units
    n = x.shape[1]
    targets = np.asarray(y, dtype=dtype)
    z_in = np.asarray(x, dtype=dtype)
    s = [np.empty((len(layer.units), n), dtype=dtype) for layer in layers]
    # An identity layer's z is its s: no copy.
    z = [z_in] + [
        s[k] if layer.activation == "identity" else np.empty_like(s[k])
        for k, layer in enumerate(layers)
    ]
    delta = [np.empty_like(v) for v in s]
    scratch = [np.empty_like(v) for v in s]
    weight_step = [np.empty_like(layer.weight) for layer in layers]
    f = [activations[layer.activation][0] for layer in layers]
    scale = [activations[layer.activation][1] for layer in layers]
    rate = learning_rate / n

    def run() -> None:
        for k, layer in enumerate(layers):
            np.matmul(layer.weight, z[k], out=s[k])
            s[k] += layer.bias
            f[k](s[k], z[k + 1])
        np.subtract(z[-1], targets, out=delta[-1])
        scale[-1](delta[-1], s[-1], z[-1], scratch[-1])
        for k in range(len(layers) - 1, -1, -1):
            layer = layers[k]
            if k > 0:  # δ of the layer below, through the weights before they change
                np.matmul(layer.weight.T, delta[k], out=delta[k - 1])
                scale[k - 1](delta[k - 1], s[k - 1], z[k], scratch[k - 1])
            delta[k] *= rate
            np.matmul(delta[k], z[k].T, out=weight_step[k])
            # (In place through the ufuncs: a frozen _Layer refuses augmented assignment.)
            np.subtract(layer.weight, weight_step[k], out=layer.weight)
            np.subtract(layer.bias, delta[k].sum(axis=1, keepdims=True), out=layer.bias)

    def read() -> Parameters:
        weight = np.zeros(plan.n_edges, dtype=np.float64)
        bias = np.zeros(plan.n_units, dtype=np.float64)
        for layer in layers:
            weight[layer.edges] = layer.weight.flat[layer.place]
            bias[layer.units] = layer.bias[:, 0]
        return weight, bias

    return Step("numpy-mlp", run, read)
