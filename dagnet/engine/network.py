"""Network: a compiled Plan plus its parameters, with forward, gradients and to_graph.

The library speaks in the graph file's order: arrays of inputs and outputs have one column per
input and output unit as they appear in the file, and weights and biases follow the file's edges
and units. Inside, parameters live in the Plan's order (edges sorted by target), the order the
kernels read them in; the conversion happens only at this boundary.

Missing weights are initialised from a seed with a fan-in/fan-out (Glorot) scheme adapted to
single edges: w_{i→j} ~ U(−a, a) with a = √(6 / (fan_in(j) + fan_out(i))), drawn for every edge in
file order from ``numpy.random.default_rng([seed, 0])``; missing biases are 0.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from dagnet.engine import kernels
from dagnet.errors import DataError
from dagnet.functions.losses import LOSSES
from dagnet.engine.plan import Plan, compile_plan
from dagnet.graph.model import Edges, Graph

Array = NDArray[np.float64]

INIT_STREAM = 0
"""Which ``default_rng([seed, stream])`` stream initialises weights (shuffling uses 1)."""

DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
"""The floating-point types the engine computes in."""


@dataclass(frozen=True)
class Trace:
    """Every unit's net input s and output z for a batch, as (N, units) in file unit order."""

    unit_ids: tuple[str, ...]
    s: Array
    z: Array


@dataclass(frozen=True)
class Gradients:
    """∂E/∂w per edge and ∂E/∂b per unit (file order; 0 for inputs), with the mean loss E."""

    loss: float
    weights: Array
    biases: Array


@dataclass(frozen=True)
class Workspace:
    """The arrays of one forward and backward pass over N examples (see Network.workspace).

    State is (units, N), or, in a workspace split by column block, (blocks, units, width):
    each thread's columns then lie together in memory, which spares the two cores of a
    machine from fetching each other's half of every row (15% of a step on two threads).
    """

    s: Array
    z: Array
    delta: Array
    output_error: Array
    output_loss: Array
    """Each output unit's loss summed over the minibatch, as the last backpropagate left it."""
    output_sums: Array
    """(blocks, outputs): each block's share of output_loss."""
    weight_gradient: Array
    bias_gradient: Array
    blocks: NDArray[np.int64]
    """Column blocks of the minibatch, one per thread (numba.set_num_threads) and no narrower
    than :func:`dagnet.engine.kernels.column_blocks` allows."""
    block_sums: tuple[Array, Array]
    """Each block's private sums of the weight and bias gradients."""


class Network:
    """A graph compiled for computation, with its weights and biases as arrays.

    Parameters
    ----------
    graph : Graph
        A validated graph (see :func:`dagnet.load_graph`); it is checked again and compiled.
    seed : int, optional
        Seeds the initialisation of missing weights. Defaults to ``graph.training.seed``; if
        neither is given and a weight is missing, a seed is drawn and kept in :attr:`seed`.
    loss : str, optional
        A name from :data:`dagnet.functions.losses.LOSSES`; defaults to ``graph.training.loss``, else
        ``"squared_error"``.
    dtype : numpy dtype, default float64
        What the engine computes in: float64, or float32 for half the memory traffic. The
        library's arrays in and out are float64 either way.

    Attributes
    ----------
    plan : Plan
        The compiled, immutable execution plan.
    weight, bias : ndarray
        The parameters in the Plan's order, updated in place by training; :attr:`weights` and
        :attr:`biases` are the same values in the file's order.
    seed : int or None
        The seed the missing weights were drawn from.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> dagnet.Network(graph).forward(np.array([[1.0], [3.0]]))
    array([[2.],
           [6.]])
    """

    def __init__(
        self,
        graph: Graph,
        *,
        seed: int | None = None,
        loss: str | None = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.graph = graph
        self.dtype = np.dtype(dtype)
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float64 or float32, not {self.dtype}")
        self.plan: Plan = compile_plan(graph)
        training = graph.training
        self.loss_name = loss or (training.loss if training else "squared_error")
        if self.loss_name not in LOSSES:
            raise ValueError(
                f"unknown loss {self.loss_name!r}; known losses are {', '.join(LOSSES)}"
            )
        self.seed = seed if seed is not None else (training.seed if training else None)
        if self.seed is None and None in graph.edges.weights:
            self.seed = secrets.randbelow(2**31)
        self.weight, self.bias = self._initial_parameters()

    def __repr__(self) -> str:
        name = f"{self.graph.name!r}, " if self.graph.name else ""
        return (
            f"Network({name}{self.plan.n_units} units, {self.plan.n_edges} edges, "
            f"inputs {', '.join(self.input_ids)}; outputs {', '.join(self.output_ids)})"
        )

    # The graph file's view (the graph never changes, so these are computed once)

    @cached_property
    def unit_ids(self) -> tuple[str, ...]:
        return tuple(unit.id for unit in self.graph.units)

    @cached_property
    def input_ids(self) -> tuple[str, ...]:
        return tuple(unit.id for unit in self.graph.units if unit.role == "input")

    @cached_property
    def output_ids(self) -> tuple[str, ...]:
        return tuple(unit.id for unit in self.graph.units if unit.role == "output")

    @cached_property
    def edges(self) -> tuple[tuple[str, str], ...]:
        edges = self.graph.edges
        return tuple(zip(edges.sources, edges.targets, strict=True))

    @property
    def weights(self) -> Array:
        """w per edge, in the file's edge order (a copy)."""
        return _in_file_order(self.weight, self.plan.edge_file_index)

    @weights.setter
    def weights(self, values: ArrayLike) -> None:
        values = self._parameter_array(values, len(self.graph.edges), "weights")
        self.weight[:] = values[self.plan.edge_file_index]

    @property
    def biases(self) -> Array:
        """b per unit, in the file's unit order (a copy; 0 for inputs)."""
        return _in_file_order(self.bias, self.plan.unit_file_index)

    @biases.setter
    def biases(self, values: ArrayLike) -> None:
        values = self._parameter_array(values, len(self.graph.units), "biases")
        self.bias[:] = values[self.plan.unit_file_index]
        self.bias[: self.plan.n_inputs] = 0.0

    def forward(self, inputs: ArrayLike) -> Array:
        """The network's outputs ŷ for a batch of examples.

        Parameters
        ----------
        inputs : array_like, shape (N, input units)
            One column per input unit, in file order (a 1-D array when there is one input).

        Returns
        -------
        ndarray, shape (N, output units)
            One column per output unit, in file order.

        Raises
        ------
        DataError
            When ``inputs`` has the wrong shape or a value that is not finite.
        """
        _, z = self.evaluate(self._inputs(inputs))
        return z[self.plan.output_positions].T.astype(np.float64)

    def trace(self, inputs: ArrayLike) -> Trace:
        """Every unit's net input s_j and output z_j for a batch, as the forward pass left them.

        Parameters
        ----------
        inputs : array_like, shape (N, input units)

        Returns
        -------
        Trace
            ``s`` and ``z`` of shape (N, units), one column per unit in file order.
        """
        s, z = self.evaluate(self._inputs(inputs))
        in_file_order = [_in_file_order(v, self.plan.unit_file_index).T.copy() for v in (s, z)]
        return Trace(self.unit_ids, *in_file_order)

    def loss(self, inputs: ArrayLike, targets: ArrayLike) -> float:
        """The mean loss E over a batch.

        Parameters
        ----------
        inputs : array_like, shape (N, input units)
        targets : array_like, shape (N, output units)

        Returns
        -------
        float
            (1/N) Σ_n E_n, with E_n = ½ Σ_outputs (ŷ − y)² for squared error.
        """
        x, y = self._inputs(inputs), self._targets(targets)
        return self.mean_loss(self.evaluate(x)[1], y)

    def gradients(self, inputs: ArrayLike, targets: ArrayLike) -> Gradients:
        """∂E/∂w and ∂E/∂b, E being the mean loss over the batch, by backpropagation.

        Parameters
        ----------
        inputs : array_like, shape (N, input units)
        targets : array_like, shape (N, output units)

        Returns
        -------
        Gradients
            ``weights`` per edge in file order, ``biases`` per unit in file order (0 for the
            inputs), and the mean ``loss``:
            ∂E/∂w_{i→j} = (1/N) Σ_n δ_j z_i and ∂E/∂b_j = (1/N) Σ_n δ_j.

        Examples
        --------
        >>> import numpy as np, dagnet
        >>> graph = dagnet.Graph.model_validate({"format_version": 1,
        ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
        ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
        >>> g = dagnet.Network(graph).gradients([[1.0]], [[0.5]])  # ŷ − y = 1.5, z_x = 1
        >>> g.loss, g.weights, g.biases
        (1.125, array([1.5]), array([0. , 1.5]))
        """
        x, y = self._inputs(inputs), self._targets(targets)
        loss, weight_gradient, bias_gradient = self.backpropagate(*self.evaluate(x), y)
        return Gradients(
            loss,
            _in_file_order(weight_gradient, self.plan.edge_file_index),
            _in_file_order(bias_gradient, self.plan.unit_file_index),
        )

    # The engine's view: unit-major arrays in Plan order, no copies beyond the state

    def evaluate(self, x: Array, workspace: Workspace | None = None) -> tuple[Array, Array]:
        """Forward pass for unit-major inputs ``x`` (input units, N): s and z as (units, N).

        With a ``workspace`` for this N, s and z are its arrays, overwritten (see
        :meth:`workspace`); otherwise they are new.
        """
        plan = self.plan
        if workspace is None:
            workspace = self.workspace(x.shape[1])
        _require_unsplit(workspace)
        s, z = workspace.s, workspace.z
        z[: plan.n_inputs] = x
        s[: plan.n_inputs] = x
        kernels.forward(plan.wiring, self.weight, self.bias, s, z, workspace.blocks)
        return s, z

    def workspace(
        self, batch: int, threads: int | None = None, *, split: bool = False
    ) -> Workspace:
        """Arrays for steps on minibatches of ``batch`` examples, to be reused step after step.

        New arrays for every step cost more than the step itself on a deep narrow network
        (fresh memory is faulted in page by page, and starts out of cache), so a training loop
        keeps one workspace per minibatch size and passes it to :meth:`evaluate` and
        :meth:`backpropagate`, or, ``split`` by column block, to :meth:`loss_and_gradients`.
        The minibatch is split between ``threads`` threads (default: as many as numba may use,
        see ``numba.set_num_threads``), or fewer when there is too little work for them.
        """
        work = (self.plan.n_edges + self.plan.n_units) * batch
        threads = min(threads or numba.get_num_threads(), max(1, work // kernels.MIN_BLOCK_WORK))
        min_columns = kernels.MIN_SPLIT_COLUMNS if split else kernels.MIN_COLUMNS
        blocks = kernels.column_blocks(batch, threads, min_columns)
        outputs = len(self.plan.output_positions)
        if split and len(blocks) > 2:
            width = int(np.diff(blocks).max())
            shape: tuple[int, ...] = (len(blocks) - 1, self.plan.n_units, width)
            error_shape: tuple[int, ...] = (len(blocks) - 1, outputs, width)
        else:
            shape, error_shape = (self.plan.n_units, batch), (outputs, batch)
        return Workspace(
            s=np.empty(shape, self.dtype),
            z=np.empty(shape, self.dtype),
            delta=np.empty(shape, self.dtype),
            output_error=np.empty(error_shape, self.dtype),
            output_loss=np.empty(outputs),
            output_sums=np.empty((len(blocks) - 1, outputs)),
            weight_gradient=np.empty_like(self.weight),
            bias_gradient=np.empty_like(self.bias),
            blocks=blocks,
            block_sums=kernels.block_sums(len(blocks) - 1, self.weight, self.bias),
        )

    def loss_and_gradients(
        self, x: Array, y: Array, workspace: Workspace
    ) -> tuple[float, Array, Array]:
        """:meth:`evaluate` then :meth:`backpropagate` for unit-major ``x`` and ``y``: the mean
        loss, ∂E/∂w and ∂E/∂b, in the arrays of ``workspace`` (which may be split).

        This is the training step's computation; the state it leaves is not returned, because
        in a split workspace it is not one (units, N) array.
        """
        if workspace.s.ndim == 2:
            return self.backpropagate(*self.evaluate(x, workspace), y, workspace)
        plan, blocks = self.plan, workspace.blocks
        kernels.forward_split(
            plan.wiring, self.weight, self.bias, x, workspace.s, workspace.z, blocks
        )
        signal = LOSSES[self.loss_name].signal
        total = 0.0
        for b in range(len(blocks) - 1):  # one compiled call per thread's block of columns
            total += signal(
                workspace.z[b], plan.output_positions, y[:, blocks[b] : blocks[b + 1]],
                workspace.output_error[b], workspace.output_sums[b],
            )  # fmt: skip
        np.sum(workspace.output_sums, axis=0, out=workspace.output_loss)
        kernels.backward_split(
            plan.wiring, self.weight, workspace.s, workspace.z, workspace.output_error,
            workspace.delta, workspace.weight_gradient, workspace.bias_gradient, blocks,
            *workspace.block_sums,
        )  # fmt: skip
        return total / x.shape[1], workspace.weight_gradient, workspace.bias_gradient

    def mean_loss(self, z: Array, y: Array) -> float:
        """The mean loss E of the outputs in state ``z`` against unit-major targets ``y``."""
        # A diverging run overflows here first; fit() checks the loss and says so in words.
        with np.errstate(over="ignore", invalid="ignore"):
            terms = LOSSES[self.loss_name].terms(z[self.plan.output_positions], y)
            return float(np.sum(terms, axis=0).mean())

    def backpropagate(
        self, s: Array, z: Array, y: Array, workspace: Workspace | None = None
    ) -> tuple[float, Array, Array]:
        """Mean loss, ∂E/∂w (Plan edge order) and ∂E/∂b (Plan unit order) for targets ``y``.

        With a ``workspace``, δ and the gradients are its arrays, overwritten.
        """
        plan = self.plan
        if workspace is None:
            workspace = self.workspace(s.shape[1])
        _require_unsplit(workspace)
        output_error = workspace.output_error
        total = LOSSES[self.loss_name].signal(
            z, plan.output_positions, y, output_error, workspace.output_loss
        )
        kernels.backward(
            plan.wiring, self.weight, s, z, output_error, workspace.delta,
            workspace.weight_gradient, workspace.bias_gradient, workspace.blocks,
            workspace.block_sums,
        )  # fmt: skip
        return total / s.shape[1], workspace.weight_gradient, workspace.bias_gradient

    def to_graph(self) -> Graph:
        """The graph file model with every weight, bias and activation written out."""
        weights, biases = self.weights.tolist(), self.biases.tolist()
        units = [
            unit
            if unit.role == "input"
            else unit.model_copy(
                update={"activation": unit.effective_activation, "bias": biases[index]}
            )
            for index, unit in enumerate(self.graph.units)
        ]
        edges = Edges(self.graph.edges.sources, self.graph.edges.targets, weights)
        return self.graph.model_copy(update={"units": units, "edges": edges})

    # Helpers

    def _inputs(self, inputs: ArrayLike) -> Array:
        return unit_major(inputs, self.input_ids, "inputs")

    def _targets(self, targets: ArrayLike) -> Array:
        return unit_major(targets, self.output_ids, "targets")

    def _initial_parameters(self) -> tuple[Array, Array]:
        plan, graph = self.plan, self.graph
        file_weights = np.array(graph.edges.weights, dtype=object)
        file_weights[file_weights == None] = np.nan  # noqa: E711 (elementwise, not identity)
        file_weights = file_weights.astype(np.float64)
        missing = np.isnan(file_weights)
        if missing.any():
            target = plan.edge_target
            fan_in = np.diff(plan.in_start)[target]
            fan_out = np.diff(plan.out_start)[plan.in_source]
            limit = _in_file_order(np.sqrt(6.0 / (fan_in + fan_out)), plan.edge_file_index)
            draw = np.random.default_rng([self.seed, INIT_STREAM]).uniform(-1.0, 1.0, len(missing))
            file_weights[missing] = (draw * limit)[missing]
        file_biases = np.array([unit.bias or 0.0 for unit in graph.units], dtype=np.float64)
        weight = np.ascontiguousarray(file_weights[plan.edge_file_index], dtype=self.dtype)
        bias = np.ascontiguousarray(file_biases[plan.unit_file_index], dtype=self.dtype)
        return weight, bias

    def _parameter_array(self, values: ArrayLike, length: int, name: str) -> Array:
        array = np.asarray(values, dtype=np.float64)
        if array.shape != (length,):
            raise ValueError(f"{name} must have shape ({length},), got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite")
        return array


def _require_unsplit(workspace: Workspace) -> None:
    if workspace.s.ndim != 2:
        raise ValueError("a workspace split by column block is for loss_and_gradients only")


def _in_file_order(values: Array, file_index: NDArray[np.int64]) -> Array:
    """Values kept in Plan order (along the first axis), put back in the graph file's order."""
    reordered = np.empty(values.shape, np.float64)
    reordered[file_index] = values
    return reordered


def unit_major(values: ArrayLike, ids: tuple[str, ...], what: str) -> Array:
    """Example-major ``values`` (N, len(ids)) as the engine's unit-major (len(ids), N) array."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1 and len(ids) == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != len(ids) or len(array) == 0:
        raise DataError(
            "DAG044",
            f"{what} must have shape (N, {len(ids)}) with N ≥ 1, one column per unit "
            f"{', '.join(ids)}; got shape {array.shape}",
        )
    if not np.all(np.isfinite(array)):
        raise DataError("DAG043", f"{what} must be finite numbers")
    return np.ascontiguousarray(array.T)
