"""Population: many small networks on shared inputs, compiled into one plan and run as one.

A NEAT run judges a whole population of small networks on the same examples. A
:class:`Population` puts its members side by side in one :class:`~dagnet.engine.plan.Plan`, the
*disjoint union* of the networks with their inputs shared: positions ``0 .. inputs-1`` are the
shared inputs, then come member 0's other units in its own execution order, then member 1's, and
so on, so that each member's units, edges (the Plan sorts them by target) and outputs are a
contiguous run. One compiled forward pass then evaluates every member on every example, and one
backward pass gives every member's gradient: the members share no parameter, and the objective
is the sum of the members' losses, so the gradient of a member's parameters is the gradient of
its own loss. Optimizers update each parameter from its own gradient and state, so training the
population is training each member alone, with the same minibatches (the same seed shuffles them
the same way), in one call per step.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from dagnet.engine.compiled import CompiledNetwork
from dagnet.engine.network import Network, check_seed, unit_major
from dagnet.engine.plan import Plan, plan_of
from dagnet.errors import ArgumentError, DataError
from dagnet.functions.losses import Head, head_terms
from dagnet.graph.model import Graph
from dagnet.training.fit import SHUFFLE_STREAM
from dagnet.training.optimizers import Optimizer
from dagnet.training.optimizers import optimizer as make_optimizer

if TYPE_CHECKING:
    from dagnet.interop.neat_population import NeatUnion

__all__ = ["Population", "PopulationHistory", "merged_heads"]

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

COLUMNS = 256
"""How many examples :meth:`Population.forward` takes at a time, at most: a row of state in
one chunk (:data:`~dagnet.engine.kernels.CHUNK_BYTES`). Each pass pays every unit's set-up
again, and on borrowed state a wide one faults in no new pages: 150 NEAT genomes took 0.67 ms
for 200 examples at once against 0.91 ms in four passes of 50."""


def _width(n: int) -> int:
    """The examples of a pass for N examples: as many passes as COLUMNS at a time needs, of
    one width (300 examples: 2 × 150, not 256 + 44)."""
    passes = -(-n // COLUMNS)
    return -(-n // passes)


@dataclass
class PopulationHistory:
    """What :meth:`Population.fit` did, member by member.

    Attributes
    ----------
    epoch_loss : ndarray (epochs, members)
        Each member's mean loss over each epoch's minibatches (as ``History.epoch_loss`` of the
        member trained alone).
    final_loss : ndarray (members,)
        Each member's loss on the training examples after the last epoch.
    diverged : ndarray of int (members,)
        The epoch in which a member's loss stopped being a finite number (0 if it never did).
        Such a member keeps the parameters of its last finite step and trains no further; the
        others go on.
    """

    epoch_loss: Array = field(default_factory=lambda: np.zeros((0, 0)))
    final_loss: Array = field(default_factory=lambda: np.zeros(0))
    diverged: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def epochs(self) -> int:
        return int(self.epoch_loss.shape[0])


class Population:
    """Networks with the same inputs and outputs, compiled into one plan and run together.

    Parameters
    ----------
    members : sequence of Graph or Network
        The networks; all must have as many inputs and as many outputs as the first. Their k-th
        inputs are one shared input, and their outputs keep their file order. A Graph is
        compiled as :class:`~dagnet.engine.network.Network` would compile it, with ``seed``,
        ``loss``, ``dtype`` and ``init``; a Network brings its current weights and biases
        (copied: training the population leaves it as it was).
    seed, loss, dtype, init
        As for :class:`~dagnet.engine.network.Network`, for the members given as graphs.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> def line(w):
    ...     return dagnet.Graph.model_validate({"format_version": 2,
    ...         "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...         "edges": [{"source": "x", "target": "y", "weight": w}]})
    >>> population = dagnet.Population([line(1.0), line(2.0), line(-1.0)])
    >>> population.forward(np.array([[1.0], [3.0]]))[:, :, 0]  # (examples, members, outputs)
    array([[ 1.,  2., -1.],
           [ 3.,  6., -3.]])
    >>> population.losses([[1.0]], [[2.0]])  # ½ (ŷ − y)² per member
    array([0.5, 0. , 4.5])
    """

    def __init__(
        self,
        members: Sequence[Graph | Network],
        *,
        seed: int | None = None,
        loss: str | None = None,
        dtype: DTypeLike | None = None,
        init: str | None = None,
    ) -> None:
        if isinstance(members, Graph | Network) or not isinstance(members, Sequence):
            raise ArgumentError("Population needs a sequence (a list) of Graphs or Networks")
        nets = []
        for k, member in enumerate(members):
            if isinstance(member, Network):
                nets.append(member)
            elif isinstance(member, Graph):
                nets.append(Network(member, seed=seed, loss=loss, dtype=dtype, init=init))
            else:
                raise ArgumentError(
                    f"member {k} is a {type(member).__name__}; a Population's members are "
                    "Graphs or Networks"
                )
        if not nets:
            raise ArgumentError("a Population needs at least one member")
        first = nets[0]
        for k, net in enumerate(nets):
            _require_same_shape(k, len(net.input_ids), len(net.output_ids), first)
            if net.dtype != first.dtype:
                raise ArgumentError(
                    f"member {k} computes in {net.dtype} but member 0 in {first.dtype}; a "
                    "Population computes in one precision"
                )
        self._templates: list[Network] | None = nets
        self._neat: NeatUnion | None = None
        self.input_ids: tuple[str, ...] = first.input_ids
        plan, weight, bias, units, frozen = _union_of_networks(nets)
        self._assemble(
            plan, weight, bias, units, tuple(net.heads for net in nets), first.dtype, frozen
        )

    @classmethod
    def from_neat(cls, genomes: Any, config: Any) -> Population:
        """The population of neat-python genomes' feed-forward networks (needs neat-python).

        ``genomes`` are neat-python genomes, or the ``(genome_id, genome)`` pairs that a
        fitness function receives; each member computes what
        :func:`~dagnet.interop.neat.graph_from_genome` makes of its genome, built from the
        genes directly and for all genomes at once. :meth:`write_back` copies trained
        parameters into the genomes.
        """
        from dagnet.interop.neat_population import neat_union  # (the one import upwards)

        union = neat_union(genomes, config)
        population = cls.__new__(cls)
        population._templates = None
        population.input_ids = tuple(union.plan.unit_ids[: union.plan.n_inputs])
        population._assemble(
            union.plan, union.weight, union.bias, union.units, union.heads, np.dtype(np.float64)
        )
        population._neat = union
        return population

    def _assemble(
        self,
        plan: Plan,
        weight: Array,
        bias: Array,
        units: IntArray,
        member_heads: tuple[tuple[Head, ...], ...],
        dtype: np.dtype,
        frozen: tuple[IntArray, IntArray] | None = None,
    ) -> None:
        self.n_members = len(units) - 1
        self.n_outputs = len(plan.output_positions) // self.n_members
        self.units = units
        edge_target = plan.edge_target
        self.edges = np.searchsorted(edge_target, units, side="left").astype(np.int64)
        self.edges[-1] = plan.n_edges
        self.network = CompiledNetwork(
            plan, weight, bias, merged_heads(member_heads, self.n_outputs), dtype, frozen
        )
        self._member_heads = member_heads

    def __repr__(self) -> str:
        plan = self.network.plan
        return (
            f"Population({self.n_members} members, {len(self.input_ids)} inputs and "
            f"{self.n_outputs} outputs each; {plan.n_units} units, {plan.n_edges} edges in all)"
        )

    def __len__(self) -> int:
        return self.n_members

    @property
    def plan(self) -> Plan:
        """The one Plan of all the members."""
        return self.network.plan

    # Computing

    def forward(self, inputs: ArrayLike) -> NDArray[np.float64]:
        """Every member's outputs ŷ for a batch of examples.

        Parameters
        ----------
        inputs : array_like, shape (N, inputs)
            One column per shared input (a 1-D array when there is one input).

        Returns
        -------
        ndarray, shape (N, members, outputs)
        """
        _, z = self._outputs(self._inputs(inputs), with_s=False)
        return z.T.reshape(-1, self.n_members, self.n_outputs)

    def losses(self, inputs: ArrayLike, targets: ArrayLike) -> NDArray[np.float64]:
        """Each member's mean loss E over a batch, the fitness a NEAT run wants.

        Parameters
        ----------
        inputs : array_like, shape (N, inputs)
        targets : array_like, shape (N, outputs) or (N, members, outputs)
            Targets shared by every member, or each member's own.

        Returns
        -------
        ndarray, shape (members,)
            Member k's (1/N) Σ_n E_n, as :meth:`Network.loss` computes it for the member alone.
        """
        x, y = self.examples(inputs, targets)
        return self._member_losses(self._terms(x, y))

    def _outputs(self, x: Array, *, with_s: bool = True) -> tuple[Array, Array]:
        """The outputs' s (unless ``with_s`` is false: no rows) and z, (outputs, N), from forward
        passes over at most :data:`COLUMNS` examples at a time (see :func:`_width`), on state
        borrowed for the call: a new population, as NEAT makes one each generation, faults in
        no new pages for it."""
        # (N ≥ 1: unit_major refuses no examples)
        s, z = self.network.outputs(x, _width(x.shape[1]), with_s=with_s)
        return s.astype(np.float64, copy=False), z.astype(np.float64, copy=False)

    def _terms(self, x: Array, y: Array) -> Array:
        """Each output's weighted share of E_n, (outputs, N), as ``output_terms`` gives it."""
        s, z = self._outputs(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return head_terms(self.network.heads, s, z, y.astype(np.float64), np)  # type: ignore[no-any-return]

    def _member_losses(self, terms: Array) -> Array:
        """(members,) mean losses from each output's share of E_n, (outputs, N)."""
        by_member = terms.reshape(self.n_members, self.n_outputs, -1)
        return np.sum(by_member, axis=1).mean(axis=1)  # type: ignore[no-any-return]

    def examples(self, inputs: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
        """Inputs and targets as the union's unit-major arrays (inputs, N), (outputs, N):
        shared targets repeated for every member."""
        x = self._inputs(inputs)
        try:
            y = np.asarray(targets)
        except ValueError:  # rows of different lengths: unit_major says so
            y = np.asarray(targets, dtype=object)
        if y.ndim == 3:
            if y.shape[1:] != (self.n_members, self.n_outputs):
                raise DataError(
                    "DAG044",
                    f"targets for each member must have shape (N, {self.n_members}, "
                    f"{self.n_outputs}); got shape {y.shape}",
                )
            ids = tuple(f"{k}:{o}" for k in range(self.n_members) for o in range(self.n_outputs))
            y_union = unit_major(y.reshape(len(y), -1), ids, "targets", self.network.dtype)
        else:
            ids = tuple(f"output {o + 1}" for o in range(self.n_outputs))
            shared = unit_major(y, ids, "targets", self.network.dtype)
            y_union = np.tile(shared, (self.n_members, 1))
        if x.shape[1] != y_union.shape[1]:
            raise DataError(
                "DAG044",
                f"inputs have {x.shape[1]} rows but targets have {y_union.shape[1]}; targets "
                "must have one row per row of inputs",
            )
        return x, y_union

    def _inputs(self, inputs: ArrayLike) -> Array:
        return unit_major(inputs, self.input_ids, "inputs", self.network.dtype)

    # Training

    def fit(
        self,
        inputs: ArrayLike,
        targets: ArrayLike,
        *,
        epochs: int,
        learning_rate: float | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        optimizer: str | Optimizer = "sgd",
    ) -> PopulationHistory:
        """Train every member in place, as :func:`dagnet.fit` would train it alone.

        The options are :func:`dagnet.fit`'s, and mean the same for each member: the same
        ``seed`` shuffles the examples of every epoch as it would for a member alone, and
        each parameter is updated from its own gradient (the member's own) and its own
        optimizer state. A member whose minibatch loss stops being finite keeps the parameters
        of its last finite step and trains no further (``diverged`` says when), where
        :func:`dagnet.fit` would stop the run; the others go on. Validation, early stopping
        and progress reports are :func:`dagnet.fit`'s alone for now.

        Parameters
        ----------
        inputs : array_like, shape (N, inputs)
        targets : array_like, shape (N, outputs) or (N, members, outputs)
        epochs, learning_rate, batch_size, shuffle, seed, optimizer
            As for :func:`dagnet.fit` (``seed`` None: not reproducible).

        Returns
        -------
        PopulationHistory
        """
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ArgumentError(f"{name} must be a whole number ≥ 1, not {value!r}")
        check_seed(seed)
        if isinstance(optimizer, Optimizer):
            if learning_rate is not None:
                raise ArgumentError("give the learning rate to the optimizer or to fit, not both")
            rule = optimizer
        else:
            rule = make_optimizer(optimizer, learning_rate)
        x, y = self.examples(inputs, targets)
        rng = np.random.default_rng(None if seed is None else [seed, SHUFFLE_STREAM])
        run = _Run(self, rule, batch_size)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(x.shape[1]) if shuffle else slice(None)
            run.epoch(epoch, x[:, order], y[:, order])
        return PopulationHistory(
            np.array(run.epoch_loss).reshape(epochs, self.n_members),
            self._member_losses(self._terms(x, y)),
            run.diverged,
        )

    # Taking the members back

    def member_parameters(self, k: int) -> tuple[Array, Array]:
        """Member ``k``'s weights and biases in the union's Plan order (copies): its edges
        ``edges[k] .. edges[k+1]-1`` and its units ``units[k] .. units[k+1]-1``."""
        net = self.network
        return (
            net.weight[self.edges[k] : self.edges[k + 1]].astype(np.float64),
            net.bias[self.units[k] : self.units[k + 1]].astype(np.float64),
        )

    def networks(self) -> list[Network]:
        """Each member as a Network of its own, with the population's current parameters."""
        if self._templates is None:
            return [Network(graph) for graph in self.graphs()]
        found = []
        n_inputs = self.plan.n_inputs
        for k, template in enumerate(self._templates):
            net = copy.deepcopy(template)
            weight, bias = self.member_parameters(k)
            net.weight = weight  # the member's Plan order is the union's, shifted
            net.bias = np.concatenate([np.zeros(n_inputs), bias])
            found.append(net)
        return found

    def graphs(self) -> list[Graph]:
        """Each member's graph with every weight and bias written out (as ``to_graph``)."""
        if self._neat is not None:
            return self._neat.graphs(self)
        return [net.to_graph() for net in self.networks()]

    def write_back(self, genomes: Any) -> int:
        """Copy every member's parameters into the neat-python genome it was made from, as
        :func:`dagnet.interop.neat.write_back` would for each member's network (Lamarckian
        evolution); only for a population made by :meth:`from_neat`, with the same genomes.

        Returns
        -------
        int
            How many genes were written.
        """
        if self._neat is None:
            raise ArgumentError(
                "write_back is for a population made by Population.from_neat; for networks "
                "made from graphs, use dagnet.interop.neat.write_back on each of networks()"
            )
        return self._neat.write_back(self, genomes)


class _Run:
    """The steps of one population run: its workspaces, its optimizer, its record."""

    def __init__(self, population: Population, rule: Optimizer, batch_size: int) -> None:
        self.population, self.rule, self.batch_size = population, rule, batch_size
        self.net = population.network
        self.workspaces: dict[int, Any] = {}
        self.epoch_loss: list[Array] = []
        self.diverged = np.zeros(population.n_members, np.int64)
        self.before = (self.net.weight.copy(), self.net.bias.copy())
        frozen_weight, frozen_bias = self.net.frozen
        self.frozen = [
            (parameter, index, parameter[index].copy())
            for parameter, index in ((self.net.weight, frozen_weight), (self.net.bias, frozen_bias))
            if len(index)
        ]
        self.stopped: list[Callable[[], None]] = []  # put back the diverged members' parameters

    def epoch(self, epoch: int, x: Array, y: Array) -> None:
        population, net = self.population, self.net
        total = np.zeros(population.n_members)
        for start in range(0, x.shape[1], self.batch_size):
            x_batch = x[:, start : start + self.batch_size]
            y_batch = y[:, start : start + self.batch_size]
            n = x_batch.shape[1]
            workspace = self.workspaces.get(n) or self.workspaces.setdefault(
                n, net.workspace(n, split=True)
            )
            np.copyto(self.before[0], net.weight)
            np.copyto(self.before[1], net.bias)
            _, weight_gradient, bias_gradient = net.loss_and_gradients(x_batch, y_batch, workspace)
            by_member = workspace.output_loss.reshape(population.n_members, -1).sum(axis=1)
            total += by_member
            self.rule.step((net.weight, net.bias), (weight_gradient, bias_gradient))
            for parameter, index, value in self.frozen:
                parameter[index] = value
            for restore in self.stopped:
                restore()
            fresh = np.flatnonzero(~np.isfinite(by_member) & (self.diverged == 0))
            for k in fresh.tolist():
                self.diverged[k] = epoch
                self.stopped.append(self._keeper(k))
                self.stopped[-1]()
        self.epoch_loss.append(total / x.shape[1])

    def _keeper(self, k: int) -> Callable[[], None]:
        """What puts member ``k``'s parameters back to those before its first bad step."""
        population, net = self.population, self.net
        edges = slice(int(population.edges[k]), int(population.edges[k + 1]))
        units = slice(int(population.units[k]), int(population.units[k + 1]))
        weight, bias = self.before[0][edges].copy(), self.before[1][units].copy()

        def restore() -> None:
            net.weight[edges] = weight
            net.bias[units] = bias

        return restore


def merged_heads(member_heads: Sequence[Sequence[Head]], n_outputs: int) -> tuple[Head, ...]:
    """The union's heads: member k's output row r is union row k · outputs + r. Heads whose loss
    is a sum over outputs (squared error, binary cross-entropy) merge across the members by
    loss and weight, so that a step makes one compiled call per kind of loss, not one per
    member; a softmax group stays a head of its own."""
    if all(heads is member_heads[0] for heads in member_heads) and len(member_heads[0]) == 1:
        (head,) = member_heads[0]  # one head for all outputs, the same for every member
        if not head.function.grouped and head.slots == tuple(range(n_outputs)):
            every = tuple(range(n_outputs * len(member_heads)))
            return (Head(head.loss, head.loss, every, head.weight),)
    merged: dict[tuple[str, float], list[int]] = {}
    groups = []
    for k, heads in enumerate(member_heads):
        base = k * n_outputs
        for head in heads:
            slots = tuple(base + slot for slot in head.slots)
            if head.function.grouped:
                groups.append(Head(f"{k}:{head.name}", head.loss, slots, head.weight, head.classes))
            else:
                merged.setdefault((head.loss, head.weight), []).extend(slots)
    return tuple(
        Head(loss, loss, tuple(sorted(slots)), weight) for (loss, weight), slots in merged.items()
    ) + tuple(groups)


def _union_of_networks(
    nets: Sequence[Network],
) -> tuple[Plan, Array, Array, IntArray, tuple[IntArray, IntArray]]:
    """The disjoint union of compiled networks with their inputs shared: its Plan, weights,
    biases, where each member's units start (members + 1,), and the frozen edges and units."""
    n_inputs = nets[0].plan.n_inputs
    sizes = [net.plan.n_units - n_inputs for net in nets]
    units = np.concatenate([[n_inputs], n_inputs + np.cumsum(sizes)]).astype(np.int64)
    sources, targets, outputs, activations, frozen_edges, frozen_units = [], [], [], [], [], []
    edge_shift = 0
    ids: list[str] = list(nets[0].plan.unit_ids[:n_inputs])
    for k, net in enumerate(nets):
        plan, shift = net.plan, units[k] - n_inputs
        in_source = plan.in_source
        sources.append(np.where(in_source < n_inputs, in_source, in_source + shift))
        targets.append(plan.edge_target + shift)
        outputs.append(plan.output_positions + shift)
        activations.append(plan.activation[n_inputs:])
        ids += [f"{k}:{unit}" for unit in plan.unit_ids[n_inputs:]]
        frozen_edges.append(net.frozen[0] + edge_shift)
        frozen_units.append(net.frozen[1] + shift)
        edge_shift += plan.n_edges
    n_units = int(units[-1])
    plan = plan_of(
        tuple(ids),
        n_inputs,
        np.concatenate(outputs).astype(np.int64),
        np.concatenate([nets[0].plan.activation[:n_inputs], *activations]).astype(np.int8),
        np.concatenate(sources).astype(np.int64),
        np.concatenate(targets).astype(np.int64),
        np.arange(n_units, dtype=np.int64),
    )
    # Each member's edges come sorted by target, then source, and the shift keeps that order.
    assert np.array_equal(plan.edge_file_index, np.arange(plan.n_edges))
    weight = np.concatenate([net.weight for net in nets]).astype(np.float64)
    bias = np.concatenate([np.zeros(n_inputs), *(net.bias[n_inputs:] for net in nets)])
    frozen = (
        np.concatenate(frozen_edges).astype(np.int64),
        np.concatenate(frozen_units).astype(np.int64),
    )
    return plan, weight, bias.astype(np.float64), units, frozen


def _require_same_shape(k: int, n_inputs: int, n_outputs: int, first: Network) -> None:
    if n_inputs != len(first.input_ids) or n_outputs != len(first.output_ids):
        raise ArgumentError(
            f"member {k} has {n_inputs} inputs and {n_outputs} outputs, member 0 has "
            f"{len(first.input_ids)} and {len(first.output_ids)}: a Population's members share "
            "their inputs and must all have as many inputs and outputs"
        )
