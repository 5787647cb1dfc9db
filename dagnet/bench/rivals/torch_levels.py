"""The PyTorch rivals: the training step in autograd, level by level, in two formulations.

- :func:`torch_index_step` gathers each level's sources with ``index_select``, weights them and
  sums them into their targets with ``index_add``.
- :func:`torch_masked_step` takes one dense matrix product per level, the matrix holding the
  level's edges and zeros elsewhere; a fixed 0/1 mask keeps the zeros at zero.

Both share :class:`_TorchLevels`: the layout, the biases per level, the activation runs, the
inputs and targets as tensors, the loss and the in-place update. The activations are those of
:data:`~dagnet.functions.activations.ACTIVATIONS` over tensors, and the loss is the network's
own, from :data:`~dagnet.functions.losses.LOSSES`. Every index tensor is built
once, and a step does no Python work per unit or per edge. PyTorch is imported only when a
builder is called; its thread count is left to the caller (``torch.set_num_threads``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from dagnet.bench.rivals.common import (
    Array,
    IntArray,
    Parameters,
    Step,
    float_dtype,
    layout_of,
)
from dagnet.engine.network import Network
from dagnet.errors import ArgumentError
from dagnet.functions.activations import ACTIVATIONS, Activation

__all__ = ["torch_index_step", "torch_masked_step"]

Tensor = Any  # a torch.Tensor: PyTorch is optional, and imported only by the builders


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "the PyTorch rivals need torch; install it with pip install 'dagnet[compare]'"
        ) from error
    return torch


def _over_tensors(activation: Activation, torch: Any) -> Callable[[Tensor], Tensor]:
    """The table's f over tensors; autograd differentiates it to the table's f'."""
    return lambda s: activation.array(s, torch)


class _TorchLevels:
    """What both PyTorch formulations share: the layout, the biases per level, the activation
    runs, the inputs and targets as tensors, the loss and the update.

    A formulation supplies the net input of each level, ``s_L = b_L + Σ w z`` from the outputs
    z of earlier levels, and its weight tensors; :meth:`step` does the rest.
    """

    def __init__(self, net: Network, x: Array, y: Array, dtype: DTypeLike) -> None:
        torch = self.torch = _import_torch()
        self.plan = plan = net.plan
        self.layout = layout = layout_of(plan)
        self.dtype = {np.float32: torch.float32, np.float64: torch.float64}[float_dtype(dtype).type]
        self.n = x.shape[1]
        self.x = self.tensor(x)
        runs = [layout.runs(plan, level) for level in range(layout.depth + 1)]
        self.runs = [
            [(_over_tensors(ACTIVATIONS[name], torch), a, b) for name, a, b in level]
            for level in runs
        ]
        # The outputs are gathered level by level, so one loss must treat each alone.
        (head,) = net.heads if len(net.heads) == 1 else (None,)
        if head is None or head.function.grouped:
            raise ArgumentError(
                "the PyTorch rivals time one loss over all outputs, each output alone"
            )
        terms, weight = head.function.terms, head.weight
        self.loss_terms = lambda y_hat, y: weight * terms(None, y_hat, y, torch)
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
        """E = (1/N) Σ_n E_n, E_n the sum over the outputs of the network's loss terms."""
        terms = self.loss_terms
        total = sum(
            terms(z[level].index_select(0, rows), targets).sum()  # type: ignore[no-untyped-call]
            for level, rows, targets in self.outputs
        )
        return total / self.n

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
