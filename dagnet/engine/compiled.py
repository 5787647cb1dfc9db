"""The engine's view of a network: a Plan and its parameters in Plan order, and the passes.

Everything here is unit-major, (units, N), in the Plan's order of units and edges, the order the
kernels read: no reordering, no copies beyond the state. :class:`~dagnet.engine.network.Network`
puts the graph file's order on top, for people.
"""

from __future__ import annotations

import numbers
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dagnet.engine import kernels
from dagnet.engine.calls import Entries, array_key, call
from dagnet.engine.kernels import Parameters, State
from dagnet.engine.plan import Plan
from dagnet.engine.threads import (
    AUTO,
    ThreadChoice,
    Threads,
    check_threads,
    most_threads,
    on_threads,
)
from dagnet.engine.workspace import Workspace, borrowed, make_workspace, state_slots
from dagnet.errors import ArgumentError
from dagnet.functions.losses import Head, head_probability, head_terms

__all__ = ["DTYPES", "CompiledNetwork", "engine_dtype"]

Array = NDArray[np.floating]
T = TypeVar("T")

SPARE_SIZE = 1 << 20
"""A network keeps a workspace for passes given none when batch × (units + edges) is at most
this: for small ones, making the workspace costs more than the pass."""

SINGLE = ("one block",)
MAX_CHOICES = 64
"""The most kinds of pass and batch sizes a network keeps the thread choices of."""
"""The key under which a workspace of several blocks keeps one of one block, for one thread."""

FITS = ("fits",)
"""The key under which a workspace's ``calls`` keep which network checked it, for which batch."""

SPARE_WORKSPACES = 4
"""How many batch sizes it keeps one for."""

DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
"""The floating-point types the engine computes in."""


def engine_dtype(dtype: object) -> np.dtype:
    """``dtype`` as one of :data:`DTYPES`, or an ArgumentError naming them."""
    try:
        chosen: np.dtype = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        chosen = np.dtype(object)
    if chosen not in DTYPES:
        raise ArgumentError(f"dtype must be float64 or float32, not {dtype!r}")
    return chosen


class CompiledNetwork:
    """A Plan with a weight per edge and a bias per unit, and the passes over it.

    Parameters
    ----------
    plan : Plan
    weight, bias : ndarray
        In Plan order; kept (as arrays of ``dtype``) and updated in place by training.
    heads : sequence of Head
        The objective: a loss over some outputs each (see :mod:`dagnet.functions.losses`),
        every output in one of them.
    dtype : float64 or float32
        What the engine computes in.
    frozen : (int array, int array), optional
        The edges (Plan order) and units whose parameters training keeps as they are.
    threads : int or "auto", default "auto"
        How many threads run the passes (see :attr:`threads`).
    """

    def __init__(
        self,
        plan: Plan,
        weight: ArrayLike,
        bias: ArrayLike,
        heads: tuple[Head, ...],
        dtype: np.dtype,
        frozen: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
        threads: Threads = AUTO,
    ) -> None:
        dtype = engine_dtype(dtype)
        self.threads = threads
        self.plan = plan
        self.dtype = dtype
        self.heads = tuple(heads)
        covered = sorted(r for head in self.heads for r in head.slots)
        assert covered == list(range(len(plan.output_positions))), "one head per output"
        self._head_slots = tuple(np.array(head.slots, dtype=np.int64) for head in self.heads)
        empty = np.zeros(0, np.int64)
        self.frozen = frozen if frozen is not None else (empty, empty)
        # What a workspace this network has checked keeps (with the batch): a training step
        # checks it in O(1), and a workspace outliving its network holds no reference to it.
        self._reference = weakref.ref(self)
        self._spare: dict[int, Workspace] = {}  # by batch: for passes given no workspace
        self._calls: Entries = {}  # the kernels of passes on borrowed state (see outputs)
        # Under "auto": how many threads ran each kind of pass over each batch fastest, kept
        # across workspaces (each fit makes its own), and what the latest choice settled on.
        self._choices: dict[tuple[str, int, bool], ThreadChoice] = {}
        self._latest_best = 1
        self.parameters = Parameters(
            np.ascontiguousarray(weight, dtype=dtype), np.ascontiguousarray(bias, dtype=dtype)
        )
        self.weight, self.bias = weight, bias  # checked as any later assignment is

    def __getstate__(self) -> dict[str, object]:
        # The workspaces it checked are of this process only (and weak references do not pickle).
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("_reference", "_spare", "_choices", "_calls")
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._reference = weakref.ref(self)
        self._spare, self._choices, self._calls = {}, {}, {}

    @property
    def threads(self) -> Threads:
        """How many threads run the column blocks of a pass: a number from 1 to
        ``NUMBA_NUM_THREADS``, or "auto" (the default), which measures, for each batch size and
        kind of pass, whether one thread or all of them run it faster, and keeps checking (see
        :mod:`dagnet.engine.threads`). One thread takes the columns as one block: its gradients
        differ from those of several only in how their sums are rounded (about 1e-16
        relative), and so does a run under "auto" from run to run."""
        return self._threads

    @threads.setter
    def threads(self, threads: Threads) -> None:
        self._threads = check_threads(threads)

    def _run(self, workspace: Workspace, kind: str, run: Callable[[bool], None]) -> None:
        """``run(parallel)``, a pass over the blocks of ``workspace`` on as many threads as
        :attr:`threads` says, or with ``parallel`` False over all its columns as one block, on
        this thread (the gradients then differ from the blocks' in the rounding of their
        sums only)."""
        blocks = len(workspace.blocks) - 1
        if blocks == 1:
            run(False)
            return
        if self._threads != AUTO:
            threads = min(int(self._threads), blocks)
            if threads == 1:
                run(False)
            else:
                on_threads(threads, lambda: run(True))
            return
        key = (kind, int(workspace.blocks[-1]), workspace.split)
        choice = self._choices.get(key)
        if choice is None:  # start from what the latest choice found (a pass with no history)
            if len(self._choices) >= MAX_CHOICES:  # (many batch sizes: forget the old ones)
                self._choices.clear()
            choice = self._choices[key] = ThreadChoice(self._latest_best)
        most = min(most_threads(), blocks)
        threads = choice.threads(most)
        started = time.perf_counter()
        if threads == 1:
            run(False)
        else:
            on_threads(threads, lambda: run(True))
        choice.record(threads, time.perf_counter() - started)
        self._latest_best = choice.best

    # The parameters: assigning checks the values and writes them into the arrays the kernels
    # and optimizers hold, which never change size, type or place.

    @property
    def weight(self) -> Array:
        """w per edge in Plan order (the engine's own array)."""
        return self.parameters.weight  # type: ignore[no-any-return]

    @weight.setter
    def weight(self, values: ArrayLike) -> None:
        self.parameters.weight[:] = self._checked(values, self.plan.n_edges, "weight")

    @property
    def bias(self) -> Array:
        """b per unit in Plan order (the engine's own array; 0 for inputs)."""
        return self.parameters.bias  # type: ignore[no-any-return]

    @bias.setter
    def bias(self, values: ArrayLike) -> None:
        self.parameters.bias[:] = self._checked(values, self.plan.n_units, "bias")
        self.parameters.bias[: self.plan.n_inputs] = 0.0

    @property
    def loss_names(self) -> tuple[str, ...]:
        """The losses of the objective, one per head."""
        return tuple(head.loss for head in self.heads)

    def evaluate(self, x: Array, workspace: Workspace | None = None) -> tuple[Array, Array]:
        """Forward pass for unit-major inputs ``x`` (input units, N): s and z as (units, N).

        With a ``workspace`` for this N, s and z are its arrays, overwritten (see
        :meth:`workspace`); otherwise they are new.
        """
        _require_shape(x, (self.plan.n_inputs, None), "x")
        if workspace is None:
            if self._keeps(x.shape[1]):  # a kept workspace, and copies: cheaper when small
                return self.read_pass(x, lambda s, z: (s.copy(), z.copy()))
            workspace = self.workspace(x.shape[1])
        _require_unsplit(workspace)
        self._require_fits(workspace, x.shape[1])
        self._forward(x, workspace)
        return workspace.state.s, workspace.state.z

    def outputs(self, x: Array, width: int, *, with_s: bool = True) -> tuple[Array, Array]:
        """The output units' s and z, (outputs, N), for unit-major inputs ``x`` (input units,
        N) and any N, from forward passes over ``width`` examples at a time, all in one
        compiled call (see :func:`~dagnet.engine.kernels.forward_outputs`), on state borrowed
        for the call (:func:`~dagnet.engine.workspace.borrowed`): for a network made to be
        evaluated once or twice, as a NEAT population is each generation. ``with_s=False``: z
        alone (s has no rows), which a Plan without dense blocks computes keeping no s."""
        _require_shape(x, (self.plan.n_inputs, None), "x")
        if x.dtype != self.dtype:
            raise ArgumentError(f"x must be {self.dtype}, not {x.dtype}")
        plan, key = self.plan, ("outputs", with_s, *array_key(x))  # (borrowed: one type)
        outputs, units = plan.output_positions, plan.n_units
        # z by example in memory, (N, outputs) transposed: what a Population returns, uncopied.
        z_out = np.empty((x.shape[1], len(outputs)), self.dtype).T
        if not with_s and len(plan.dense.sources) == 0:
            with borrowed((units, width), self.dtype) as z:
                call(self._calls, key, kernels.forward_z_outputs, plan.wiring, self.parameters,
                     x, z, outputs, z_out)  # fmt: skip
            return np.empty((0, x.shape[1]), self.dtype), z_out
        s_out = np.empty((len(outputs), x.shape[1]), self.dtype)
        with borrowed((2, units, width), self.dtype) as s_and_z:
            nothing = np.empty((0, width), self.dtype)
            state = State(s_and_z[0], s_and_z[1], nothing, nothing)
            call(self._calls, key, kernels.forward_outputs, plan.wiring, self.parameters, x,
                 state, outputs, s_out, z_out)  # fmt: skip
        return (s_out if with_s else s_out[:0]), z_out

    def read_pass(self, x: Array, read: Callable[[Array, Array], T]) -> T:
        """``read(s, z)`` on the state of a forward pass for unit-major ``x``, which is only
        valid during the call: a small network keeps a workspace per batch size for these
        passes, so that they allocate nothing (new ones are made for the callers of other
        threads while one is in use)."""
        _require_shape(x, (self.plan.n_inputs, None), "x")
        batch = x.shape[1]
        workspace = self._borrow(batch)
        self._forward(x, workspace)
        try:
            return read(workspace.state.s, workspace.state.z)
        finally:
            self._keep(workspace, batch)

    def _keeps(self, batch: int) -> bool:
        """Whether a workspace for ``batch`` is small enough to keep for the next pass."""
        return batch * (self.plan.n_units + self.plan.n_edges) <= SPARE_SIZE

    def _borrow(self, batch: int) -> Workspace:
        """A checked workspace for ``batch`` that no one else is using; give it back with
        :meth:`_keep`."""
        workspace = self._spare.pop(batch, None)
        if workspace is None:
            workspace = self.workspace(batch)
            self._require_fits(workspace, batch)
        return workspace

    def _keep(self, workspace: Workspace, batch: int) -> None:
        """Keep a workspace of :meth:`read_pass` for the next pass of ``batch``, if small."""
        if self._keeps(batch):
            if len(self._spare) >= SPARE_WORKSPACES:
                self._spare.clear()
            self._spare[batch] = workspace

    def _forward(self, x: Array, workspace: Workspace) -> None:
        """The forward pass over a checked workspace that is not split."""
        state, wiring, parameters = workspace.state, self.plan.wiring, self.parameters
        if len(workspace.blocks) == 2:
            key = ("forward", *array_key(x))
            call(workspace.calls, key, kernels.forward_whole, wiring, parameters, x, state)
            return
        state.z[: wiring.n_inputs] = x
        state.s[: wiring.n_inputs] = x
        blocks, whole = workspace.blocks, workspace.blocks[[0, -1]]
        self._run(
            workspace,
            "forward",
            lambda parallel: kernels.forward(  # type: ignore[no-untyped-call]
                wiring, parameters, state, blocks if parallel else whole
            ),
        )

    def workspace(
        self, batch: int, threads: int | None = None, *, split: bool = False
    ) -> Workspace:
        """Arrays for steps on minibatches of ``batch`` examples, to be reused step after step
        (see :mod:`dagnet.engine.workspace`): pass them to :meth:`evaluate` and
        :meth:`backpropagate`, or, ``split`` by column block, to :meth:`loss_and_gradients`."""
        for name, value in (("batch", batch), ("threads", threads)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
            ):
                raise ArgumentError(f"{name} must be a whole number ≥ 1, not {value!r}")
        return make_workspace(self.plan, self.dtype, batch, threads, split=split)

    def loss_and_gradients(
        self, x: Array, y: Array, workspace: Workspace
    ) -> tuple[float, Array, Array]:
        """:meth:`evaluate` then :meth:`backpropagate` for unit-major ``x`` and ``y``: the mean
        loss, ∂E/∂w and ∂E/∂b, in the arrays of ``workspace`` (which may be split).

        This is the training step's computation; the state it leaves is not returned, because
        in a split workspace it is not one (units, N) array.
        """
        _require_shape(x, (self.plan.n_inputs, None), "x")
        _require_shape(y, (len(self.plan.output_positions), x.shape[1]), "y")
        self._require_fits(workspace, x.shape[1])
        gradient = workspace.gradient
        if not workspace.split:
            state = workspace.state
            self._forward(x, workspace)
            calls, output_loss = workspace.calls, workspace.output_loss
            total = self._signal(
                state.s, state.z, y, state.output_error, output_loss, calls, array_key(y)
            )
            self._backward(workspace, state, own=True)
            return total / x.shape[1], gradient.weight, gradient.bias
        totals: list[float] = []
        self._run(
            workspace,
            "step",
            lambda parallel: totals.append(self._split_step(x, y, workspace, parallel)),
        )
        return totals[0] / x.shape[1], gradient.weight, gradient.bias

    def _split_step(self, x: Array, y: Array, workspace: Workspace, parallel: bool) -> float:
        """The passes of :meth:`loss_and_gradients` over a split workspace: Σ_n E_n. One
        thread runs them as one block, in a workspace of one block kept beside it, and copies
        the results over: block after block it would pay each unit's and edge's set-up once
        per block (a quarter to two thirds of a step more, measured). Blocks cut to a chunk or
        to the cache (see :mod:`dagnet.engine.workspace`) it runs one after the other."""
        if not parallel and workspace.chunked:
            return on_threads(1, lambda: self._split_step(x, y, workspace, True))
        if not parallel:
            single = workspace.calls.get(SINGLE)
            if single is None:
                single = workspace.calls[SINGLE] = self.workspace(x.shape[1], 1)
                self._require_fits(single, x.shape[1])
            state = single.state
            self._forward(x, single)
            total = self._signal(
                state.s, state.z, y, state.output_error, single.output_loss, single.calls,
                array_key(y),
            )  # fmt: skip
            self._backward(single, state, own=True)
            np.copyto(workspace.gradient.weight, single.gradient.weight)
            np.copyto(workspace.gradient.bias, single.gradient.bias)
            np.copyto(workspace.output_loss, single.output_loss)
            return total
        plan, state, blocks, calls = self.plan, workspace.state, workspace.blocks, workspace.calls
        wiring, parameters = plan.wiring, self.parameters
        back_wiring, back_parameters, order = wiring, parameters, None
        if workspace.out_weight is not None:  # (see Workspace.out_weight)
            np.take(parameters.weight, plan.out_edge, out=workspace.out_weight)
            back_wiring, order = plan.wiring_by_out_edge, plan.out_edge
            back_parameters = kernels.Parameters(workspace.out_weight, parameters.bias)
        forward, backward = kernels.forward_split, kernels.backward_split
        count = min(len(state.s), most_threads())
        total = 0.0
        for first in range(0, len(blocks) - 1, count):  # blocks first .. first+count-1
            call(calls, (forward, *array_key(x)), forward, wiring, parameters, x, state, blocks,
                 first, count)  # fmt: skip
            for b in range(min(count, len(blocks) - 1 - first)):  # one compiled call per block
                total += self._signal(
                    state.s[b],
                    state.z[b],
                    y[:, blocks[first + b] : blocks[first + b + 1]],
                    state.output_error[b],
                    workspace.output_sums[first + b],
                    calls,
                    array_key(y),
                )
            call(calls, (backward,), backward, back_wiring, back_parameters, state, blocks,
                 workspace.sums, first, count)  # fmt: skip
        np.sum(workspace.output_sums, axis=0, out=workspace.output_loss)
        mean = kernels.mean_of_sums
        call(calls, (mean,), mean, workspace.sums, x.shape[1], workspace.gradient, order)
        return total

    def output_terms(self, s: Array, z: Array, y: Array) -> NDArray[np.float64]:
        """Each output's weighted share of E_n, (outputs, N), from a pass's state s and z
        against unit-major targets ``y``: the sum over axis 0 is E_n."""
        outputs = self.plan.output_positions
        # A diverging run overflows here first; fit() checks the loss and says so in words.
        with np.errstate(over="ignore", invalid="ignore"):
            s_out, z_out = (v[outputs].astype(np.float64) for v in (s, z))
            return head_terms(self.heads, s_out, z_out, y.astype(np.float64), np)  # type: ignore[no-any-return]

    def mean_loss(self, s: Array, z: Array, y: Array) -> float:
        """The mean loss E of a pass's outputs against unit-major targets ``y``."""
        return float(np.sum(self.output_terms(s, z, y), axis=0).mean())

    def output_values(self, s: Array, z: Array) -> NDArray[np.float64]:
        """What the outputs stand for, (outputs, N): ŷ, or the probabilities of cross-entropy
        outputs and softmax groups."""
        outputs = self.plan.output_positions
        s_out, z_out = (v[outputs].astype(np.float64) for v in (s, z))
        return head_probability(self.heads, s_out, z_out, np)  # type: ignore[no-any-return]

    def _signal(
        self,
        s: Array,
        z: Array,
        y: Array,
        out: Array,
        by_output: Array,
        calls: Entries | None = None,
        types: tuple[object, ...] = (),
    ) -> float:
        """Each head's compiled signal: the loss's part of every output's δ into ``out``, each
        output's share of Σ_n E_n into ``by_output``; returns Σ_n E_n. With a workspace's
        ``calls``, through the compiled versions kept there (see :mod:`dagnet.engine.calls`),
        ``types`` being the keys of those arguments that are not the workspace's own."""
        codes, outputs = self.plan.wiring.activation, self.plan.output_positions
        total = 0.0
        for head, slots in zip(self.heads, self._head_slots, strict=True):
            signal = head.function.signal
            arguments = (s, z, codes, outputs, slots, y, out, by_output, head.weight)
            if calls is None:
                total += signal(*arguments)
            else:
                total += call(calls, (signal, *types), signal, *arguments)
        return total

    def backpropagate(
        self, s: Array, z: Array, y: Array, workspace: Workspace | None = None
    ) -> tuple[float, Array, Array]:
        """Mean loss, ∂E/∂w (Plan edge order) and ∂E/∂b (Plan unit order) for targets ``y``.

        With a ``workspace``, δ and the gradients are its arrays, overwritten.
        """
        plan = self.plan
        _require_shape(s, (plan.n_units, None), "s")
        _require_shape(z, s.shape, "z")
        _require_shape(y, (len(plan.output_positions), s.shape[1]), "y")
        if workspace is None and self._keeps(s.shape[1]):
            batch = s.shape[1]
            borrowed = self._borrow(batch)
            try:
                loss, weight, bias = self._backpropagate(s, z, y, borrowed)
                return loss, weight.copy(), bias.copy()
            finally:
                self._keep(borrowed, batch)
        workspace = workspace or self.workspace(s.shape[1])
        _require_unsplit(workspace)
        self._require_fits(workspace, s.shape[1])
        return self._backpropagate(s, z, y, workspace)

    def _backpropagate(
        self, s: Array, z: Array, y: Array, workspace: Workspace
    ) -> tuple[float, Array, Array]:
        """:meth:`backpropagate` in a checked workspace that is not split."""
        state = State(s, z, workspace.state.delta, workspace.state.output_error)
        types = (*array_key(s), *array_key(z), *array_key(y))  # the caller's: any type
        total = self._signal(
            s, z, y, state.output_error, workspace.output_loss, workspace.calls, types
        )
        self._backward(workspace, state)
        gradient = workspace.gradient
        return total / s.shape[1], gradient.weight, gradient.bias

    def _backward(self, workspace: Workspace, state: State, *, own: bool = False) -> None:
        """The backward pass over a checked workspace that is not split, from ``state`` (the
        workspace's ``own``, or with s and z of the caller's)."""
        gradient, wiring, parameters = workspace.gradient, self.plan.wiring, self.parameters
        if len(workspace.blocks) == 2:
            key = ("backward",) if own else ("backward", *array_key(state.s), *array_key(state.z))
            call(workspace.calls, key, kernels.backward_whole, wiring, parameters, state, gradient)
            return
        blocks, whole, sums = workspace.blocks, workspace.blocks[[0, -1]], workspace.sums
        self._run(
            workspace,
            "backward",
            lambda parallel: kernels.backward(  # type: ignore[no-untyped-call]
                wiring, parameters, state, gradient, blocks if parallel else whole, sums
            ),
        )

    def _checked(self, values: ArrayLike, length: int, name: str) -> NDArray[np.float64]:
        """``values`` as float64 of ``length``, finite; anything else is an ArgumentError, so
        that no array the kernels cannot index ever reaches them."""
        array = np.asarray(values)
        if array.dtype.kind not in "biuf":
            raise ArgumentError(f"{name} must be real numbers, not an array of {array.dtype}")
        if array.shape != (length,):
            raise ArgumentError(f"{name} must have shape ({length},), got {array.shape}")
        array = array.astype(np.float64)
        if not np.all(np.isfinite(array)):
            raise ArgumentError(f"{name} must be finite numbers")
        largest = float(np.finfo(self.dtype).max)
        beyond = np.flatnonzero(np.abs(array) > largest)
        if len(beyond):
            raise ArgumentError(
                f"{name}[{beyond[0]}] is {array[beyond[0]]:g}, beyond {self.dtype}'s range "
                f"(±{largest:.3g}); compute in float64, or use smaller values"
            )
        return array

    def _require_fits(self, workspace: Workspace, batch: int) -> None:
        """A workspace made by :meth:`workspace` of this network for ``batch`` examples: the
        kernels index its arrays by the Plan, unchecked, so no other may reach them. Checked
        once per workspace and batch (its arrays cannot be swapped: it is frozen)."""
        if workspace.calls.get(FITS) == (self._reference, batch):
            return
        state, plan, blocks = workspace.state, self.plan, workspace.blocks
        n_blocks, outputs = len(blocks) - 1, len(plan.output_positions)
        steps = np.diff(blocks) if n_blocks >= 1 else np.zeros(0, np.int64)
        shape: tuple[int, ...]
        error_shape: tuple[int, ...]
        if workspace.split:
            width = int(steps.max()) if n_blocks >= 1 else 0
            slots = state_slots(n_blocks)
            shape, error_shape = (slots, plan.n_units, width), (slots, outputs, width)
        else:
            shape, error_shape = (plan.n_units, batch), (outputs, batch)
        gradients = (workspace.gradient, workspace.sums)
        fits = (
            n_blocks >= 1
            and int(blocks[0]) == 0
            and int(blocks[-1]) == batch
            and bool(np.all(steps > 0))
            and all(a.shape == shape for a in (state.s, state.z, state.delta))
            and state.output_error.shape == error_shape
            and all(
                a.dtype == self.dtype
                for a in (
                    state.s,
                    state.z,
                    state.delta,
                    state.output_error,
                    *(part for g in gradients for part in (g.weight, g.bias)),
                )
            )
            and workspace.gradient.weight.shape == (plan.n_edges,)
            and workspace.gradient.bias.shape == (plan.n_units,)
            and workspace.sums.weight.shape == (n_blocks, plan.n_edges)
            and workspace.sums.bias.shape == (n_blocks, plan.n_units)
            and workspace.output_loss.shape == (outputs,)
            and workspace.output_sums.shape == (n_blocks, outputs)
        )
        if not fits:
            raise ArgumentError(
                f"the workspace is not one this network made for {batch} examples; make it "
                "with net.workspace(batch)"
            )
        workspace.calls[FITS] = (self._reference, batch)


def _require_shape(array: Array, shape: tuple[int | None, ...], name: str) -> None:
    """``array`` of ``shape`` (None: any length) and a floating type, or an ArgumentError: the
    kernels read these arrays without bounds checks."""
    if type(array) is np.ndarray and array.ndim == 2 == len(shape) and array.dtype.kind == "f":
        rows, columns = array.shape  # (the common case, checked in a few operations)
        want_rows, want_columns = shape
        if (
            rows
            and columns
            and (want_rows is None or rows == want_rows)
            and (want_columns is None or columns == want_columns)
        ):
            return
    if (
        not isinstance(array, np.ndarray)
        or array.dtype.kind != "f"
        or array.ndim != len(shape)
        or any(
            want is not None and have != want for have, want in zip(array.shape, shape, strict=True)
        )
        or 0 in array.shape
    ):
        described = getattr(array, "shape", type(array).__name__)
        wanted = "(" + ", ".join("N" if n is None else str(n) for n in shape) + ")"
        raise ArgumentError(
            f"{name} must be a float array of shape {wanted} (unit-major, N ≥ 1), not {described}"
        )


def _require_unsplit(workspace: Workspace) -> None:
    if workspace.split:
        raise ArgumentError("a workspace split by column block is for loss_and_gradients only")
