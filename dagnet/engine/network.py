"""Network: a graph compiled for computation, speaking the graph file's order.

The library speaks in the graph file's order: arrays of inputs and outputs have one column per
input and output unit as they appear in the file, and weights and biases follow the file's edges
and units. Inside, parameters live in the Plan's order (edges sorted by target), the order the
kernels read them in (:class:`~dagnet.engine.compiled.CompiledNetwork`); the conversion happens
only at this boundary. Missing weights are drawn as :mod:`dagnet.engine.initialisation` says.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from dagnet.engine.compiled import CompiledNetwork, engine_dtype
from dagnet.engine.initialisation import draw_seed, initial_parameters
from dagnet.engine.plan import Plan, compile_plan
from dagnet.engine.threads import AUTO, Threads
from dagnet.errors import ArgumentError, DataError
from dagnet.functions.losses import Head
from dagnet.graph.data import check_targets
from dagnet.graph.heads import heads as heads_of
from dagnet.graph.messages import listing
from dagnet.graph.model import Edges, Graph

__all__ = ["Gradients", "Network", "Trace", "check_seed", "unit_major"]

Array = NDArray[np.float64]


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


class Network(CompiledNetwork):
    """A graph compiled for computation, with its weights and biases as arrays.

    Parameters
    ----------
    graph : Graph
        A validated graph (see :func:`dagnet.load_graph`); it is checked again and compiled.
    seed : int, optional
        Seeds the initialisation of missing weights. Defaults to ``graph.training.seed``; if
        neither is given and a weight is missing, a seed is drawn and kept in :attr:`seed`.
    loss : str, optional
        A name from :data:`dagnet.functions.losses.LOSSES`, for every output; defaults to the
        file's choice (``training.losses``, else ``training.loss``, else squared error; see
        :mod:`dagnet.graph.heads`).
    dtype : numpy dtype, optional
        What the engine computes in: float64, or float32 for half the memory traffic; defaults
        to ``graph.training.dtype`` (so a network trained in float32 comes back in float32),
        else float64. The library's arrays in and out are float64 either way.
    init : str, optional
        How missing weights are drawn (see :mod:`dagnet.engine.initialisation`):
        ``glorot_uniform`` (the default), ``he_uniform``, ``lecun_normal`` or
        ``widrow_nguyen``; defaults to ``graph.training.init``.
    input_range : (float, float), optional
        The lowest and highest input of the training data, which ``widrow_nguyen`` needs.
    threads : int or "auto", default "auto"
        How many threads run the passes: a number from 1 to ``NUMBA_NUM_THREADS``, or "auto",
        which measures whether one thread or all of them are faster, for each minibatch size,
        and keeps checking as the machine's load changes. The numbers differ between one
        thread and several only in the rounding of sums over the examples (see
        :attr:`CompiledNetwork.threads`).

    Attributes
    ----------
    plan : Plan
        The compiled, immutable execution plan.
    weights, biases : ndarray
        The parameters in the file's order, read-only copies; assign ``net.weights = values``
        (or ``net.biases``) to set them. :attr:`weight` and :attr:`bias` are the engine's own
        arrays in the Plan's order, updated in place by training.
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
        dtype: DTypeLike | None = None,
        init: str | None = None,
        input_range: tuple[float, float] | None = None,
        threads: Threads = AUTO,
    ) -> None:
        if not isinstance(graph, Graph):
            raise ArgumentError(
                f"Network needs a Graph (from dagnet.load_graph or Graph.model_validate), not "
                f"{type(graph).__name__}"
            )
        check_seed(seed)
        self.graph = graph
        try:
            plan = compile_plan(graph)
        except (AttributeError, TypeError, KeyError) as exc:  # built without validation
            raise ArgumentError(
                f"the graph is not a valid dagnet graph ({exc}); build it with "
                "Graph.model_validate or dagnet.load_graph, which check it"
            ) from None
        training = graph.training
        self.seed = seed if seed is not None else (training.seed if training else None)
        if self.seed is None and None in graph.edges.weights:
            self.seed = draw_seed()
        if dtype is None:
            dtype = training.dtype if training else np.float64
        dtype = engine_dtype(dtype)
        _require_range(graph, dtype)
        scheme = init or (training.init if training else "glorot_uniform")
        if self.seed is None and scheme == "widrow_nguyen":
            self.seed = draw_seed()  # it draws the biases the file leaves out, too
        weight, bias = initial_parameters(graph, plan, self.seed, dtype, scheme, input_range)
        heads = heads_of(graph, loss)
        super().__init__(plan, weight, bias, heads, dtype, _frozen(graph, plan), threads)

    def __repr__(self) -> str:
        name = f"{self.graph.name!r}, " if self.graph.name else ""
        return (
            f"Network({name}{self.plan.n_units} units, {self.plan.n_edges} edges, "
            f"inputs {listing(self.input_ids)}; outputs {listing(self.output_ids)})"
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
        """w per edge, in the file's edge order: a read-only copy (``net.weights[k] = v`` raises
        instead of changing nothing); assign the whole array to set them."""
        return _read_only(_in_file_order(self.weight, self.plan.edge_file_index))

    @weights.setter
    def weights(self, values: ArrayLike) -> None:
        values = self._checked(values, self.plan.n_edges, "weights")
        self.weight = values[self.plan.edge_file_index]

    @property
    def biases(self) -> Array:
        """b per unit, in the file's unit order (0 for inputs): a read-only copy, as
        :attr:`weights`."""
        return _read_only(_in_file_order(self.bias, self.plan.unit_file_index))

    @biases.setter
    def biases(self, values: ArrayLike) -> None:
        values = self._checked(values, self.plan.n_units, "biases")
        self.bias = values[self.plan.unit_file_index]

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
        outputs = self.plan.output_positions
        return self.read_pass(self._inputs(inputs), lambda s, z: _as_double(z[outputs].T))

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
        index = self.plan.unit_file_index
        s, z = self.read_pass(
            self._inputs(inputs),
            lambda s, z: tuple(_in_file_order(v, index).T.copy() for v in (s, z)),
        )
        return Trace(self.unit_ids, s, z)

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
        x, y = self.examples(inputs, targets)
        return self.read_pass(x, lambda s, z: self.mean_loss(s, z, y))

    def probabilities(self, inputs: ArrayLike) -> Array:
        """What each output stands for, (N, output units) in file order: the probability of
        class 1 for a cross-entropy output, p = softmax over a softmax group's outputs, and ŷ
        itself for the rest (as :meth:`forward`)."""
        return self.read_pass(self._inputs(inputs), lambda s, z: self.output_values(s, z).T.copy())

    def predict_classes(self, inputs: ArrayLike) -> dict[str, NDArray[np.int64]]:
        """The predicted class of each example for each classifying head (softmax group: the
        argmax, as an index into its outputs; cross-entropy output: 1 when p ≥ 0.5), by head
        name; a cross-entropy head over several outputs gives (N, outputs)."""
        values = self.probabilities(inputs)
        return {
            head.name: predicted(head, values) for head in self.heads if head.function.classifies
        }

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
        x, y = self.examples(inputs, targets)
        batch = x.shape[1]
        workspace = self._borrow(batch)
        try:
            loss, weight_gradient, bias_gradient = self.backpropagate(
                *self.evaluate(x, workspace), y, workspace
            )
            return Gradients(
                loss,
                _in_file_order(weight_gradient, self.plan.edge_file_index),
                _in_file_order(bias_gradient, self.plan.unit_file_index),
            )
        finally:
            self._keep(workspace, batch)

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
        old = self.graph.edges
        edges = Edges(old.sources, old.targets, weights, old.trainable)
        return self.graph.model_copy(update={"units": units, "edges": edges})

    def examples(self, inputs: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
        """Inputs and targets, example-major, as the engine's unit-major arrays: checked as
        :func:`unit_major` checks them, and for one row of targets per row of inputs."""
        x, y = self._inputs(inputs), self._targets(targets)
        check_targets(self.graph, y.T, "targets", self.heads)
        if x.shape[1] != y.shape[1]:
            raise DataError(
                "DAG044",
                f"inputs have {x.shape[1]} rows but targets have {y.shape[1]}; targets must have "
                f"shape ({x.shape[1]}, {len(self.output_ids)}), one row per row of inputs",
            )
        return x, y

    def _inputs(self, inputs: ArrayLike) -> Array:
        return unit_major(inputs, self.input_ids, "inputs", self.dtype)

    def _targets(self, targets: ArrayLike) -> Array:
        return unit_major(targets, self.output_ids, "targets", self.dtype)


def predicted(head: Head, values: Array) -> NDArray[np.int64]:
    """``head``'s predicted classes from output values (N, outputs): the argmax over a softmax
    group (N,), or p ≥ threshold per cross-entropy output (N, outputs of the head)."""
    columns = values[:, list(head.slots)]
    if head.function.grouped:
        return np.argmax(columns, axis=1).astype(np.int64)  # type: ignore[no-any-return]
    threshold = head.function.threshold
    assert threshold is not None
    found = (columns >= threshold).astype(np.int64)
    return found[:, 0] if found.shape[1] == 1 else found


def _frozen(graph: Graph, plan: Plan) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The Plan positions of the edges and units whose parameter the file marks untrainable."""
    trainable = graph.edges.trainable
    edges = (
        np.flatnonzero(~np.array(trainable, dtype=bool)[plan.edge_file_index])
        if not all(trainable)
        else np.empty(0, dtype=np.int64)  # what most files have, found without an array
    )
    units = np.array([unit.trainable for unit in graph.units], dtype=bool)[plan.unit_file_index]
    return edges.astype(np.int64), np.flatnonzero(~units).astype(np.int64)


def check_seed(seed: object) -> None:
    """A seed is None or a whole number ≥ 0 (numpy's generators take no other), else an
    ArgumentError."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(f"seed must be a whole number ≥ 0 or None, not {seed!r}")


def _require_range(graph: Graph, dtype: np.dtype) -> None:
    """Every weight and bias of the file representable in ``dtype``: one beyond float32's range
    would be infinite before the first step, which no learning rate can mend."""
    if dtype != np.float32:
        return
    largest = float(np.finfo(dtype).max)
    edges = graph.edges
    for source, target, weight in zip(edges.sources, edges.targets, edges.weights, strict=True):
        if weight is not None and abs(weight) > largest:
            raise ArgumentError(
                f"edge {source} -> {target} has weight {weight:g}, beyond float32's range "
                f"(±{largest:.3g}), so the network overflows before any update; compute in "
                "float64 (--dtype float64) or use a smaller weight"
            )
    for unit in graph.units:
        if unit.bias is not None and abs(unit.bias) > largest:
            raise ArgumentError(
                f"unit '{unit.id}' has bias {unit.bias:g}, beyond float32's range "
                f"(±{largest:.3g}), so the network overflows before any update; compute in "
                "float64 (--dtype float64) or use a smaller bias"
            )


def _as_double(values: NDArray[np.floating]) -> Array:
    """``values`` (a new array) as float64, copied only if it is not already."""
    return values.astype(np.float64, copy=False)


def _read_only(values: Array) -> Array:
    values.setflags(write=False)
    return values


def _in_file_order(values: NDArray[np.floating], file_index: NDArray[np.int64]) -> Array:
    """Values kept in Plan order (along the first axis), put back in the graph file's order."""
    reordered = np.empty(values.shape, np.float64)
    reordered[file_index] = values
    return reordered


def unit_major(
    values: ArrayLike, ids: tuple[str, ...], what: str, dtype: DTypeLike = np.float64
) -> Array:
    """Example-major ``values`` (N, len(ids)) as the engine's unit-major (len(ids), N) array,
    every value finite in ``dtype``, the precision the engine computes in.

    Raises
    ------
    DataError
        Naming the shape expected, for anything that is not a rectangle of finite real
        numbers of that shape: text, ragged lists, complex numbers (never cast to real), a
        wrong number of columns, no rows.
    """
    try:
        array = np.asarray(values)
    except ValueError:  # ragged: rows of different lengths
        raise DataError(
            "DAG044", f"{_expected(what, ids)}; got rows of different lengths"
        ) from None
    if array.dtype.kind not in "biuf":
        found = {
            "c": "complex numbers (their imaginary parts would be lost)",
            "U": "text",
            "S": "bytes",
            "O": "objects (rows of different lengths, or values that are not numbers)",
        }.get(array.dtype.kind, f"values of type {array.dtype}")
        raise DataError("DAG043", f"{_expected(what, ids)}, of real numbers; got {found}")
    if array.ndim == 1 and len(ids) == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != len(ids) or len(array) == 0:
        raise DataError("DAG044", f"{_expected(what, ids)}; got shape {array.shape}")
    result = np.array(array.T, dtype=np.float64, order="C")  # the engine's own copy
    if not np.isfinite(result).all():
        row, column = (int(i[0]) for i in np.nonzero(~np.isfinite(result.T)))
        raise DataError(
            "DAG043",
            f"{what} must be finite numbers; row {row + 1}, column {column + 1} (unit "
            f"{ids[column]}) is {result[column, row]}",
        )
    largest = _LARGEST.get(np.dtype(dtype)) or float(np.finfo(dtype).max)
    if largest < _LARGEST[np.dtype(np.float64)] and np.abs(result).max() > largest:
        row, column = (int(i[0]) for i in np.nonzero(np.abs(result.T) > largest))
        raise DataError(
            "DAG043",
            f"{what}: row {row + 1}, column {column + 1} (unit {ids[column]}) is "
            f"{result[column, row]:g}, beyond {np.dtype(dtype)}'s range (±{largest:.3g}); "
            "compute in float64 (--dtype float64) or scale the data down",
        )
    return result


_LARGEST = {np.dtype(t): float(np.finfo(t).max) for t in (np.float64, np.float32)}
"""The largest finite number of each engine dtype."""


def _expected(what: str, ids: tuple[str, ...]) -> str:
    return f"{what} must have shape (N, {len(ids)}) with N ≥ 1, one column per unit {listing(ids)}"
