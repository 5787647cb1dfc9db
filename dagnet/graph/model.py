"""The graph file format, version 2, as Pydantic models.

These models describe what a person writes: each object refuses unknown keys (they are usually
typos), numbers must be finite, and types are strict (``"0.5"`` is not a number). Rules that
relate several parts of a file (unique ids, edges naming known units, no cycles, known activation
names) are not structural and live in :mod:`dagnet.graph.checks`, so that one run reports all
of them. The names of activations and losses come from their tables in :mod:`dagnet.functions`;
the JSON Schema generated from these models is in :mod:`dagnet.graph.schema`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import itemgetter, methodcaller
from typing import Annotated, Any, Literal, NamedTuple, overload

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    PrivateAttr,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from dagnet.errors import ArgumentError
from dagnet.functions.activations import ACTIVATION_NAMES
from dagnet.functions.losses import LOSSES

__all__ = [
    "DEFAULT_ACTIVATION", "FORMAT_VERSION", "INITIALISATION_NAMES", "LOSS_NAMES",
    "OPTIMIZER_NAMES", "UNIT_ID_PATTERN",
    "Data", "Edge", "Edges", "Graph", "LossHead", "Numbering", "OptimizerSettings", "Trained",
    "Training", "Unit",
]  # fmt: skip

FORMAT_VERSION = 2
"""The newest ``format_version`` this dagnet reads and the one it writes. Version 2 added
losses per output (``training.losses``), frozen parameters (``trainable``), optimizer settings,
validation and early stopping; a version 1 file is read as it was."""

LOSS_NAMES = tuple(LOSSES)
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adam", "rprop")
INITIALISATION_NAMES = ("glorot_uniform", "he_uniform", "lecun_normal", "widrow_nguyen")
"""The schemes a file may name for missing weights; :mod:`dagnet.engine.initialisation`
implements them (a test holds the two together)."""
"""The optimizers a file may name; :data:`dagnet.training.optimizers.OPTIMIZERS` implements
them (a test holds the two together)."""
DEFAULT_ACTIVATION = {"hidden": "sigmoid", "output": "identity"}

UNIT_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
UnitId = Annotated[str, StringConstraints(pattern=UNIT_ID_PATTERN)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Role = Literal["input", "hidden", "output"]
AsTuple = BeforeValidator(lambda value: tuple(value) if isinstance(value, list) else value)
"""A JSON array (a list) kept as a tuple: the model is frozen, its arrays too."""


# Lets other tools see in the schema what dagnet.graph.checks enforces for input units.
_INPUTS_HAVE_NO_ACTIVATION_OR_BIAS: dict[str, Any] = {
    "if": {"properties": {"role": {"const": "input"}}, "required": ["role"]},
    "then": {"not": {"anyOf": [{"required": ["activation"]}, {"required": ["bias"]}]}},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Unit(_Model):
    """One unit: an input, a hidden unit or an output, with its own activation and bias."""

    model_config = ConfigDict(json_schema_extra=_INPUTS_HAVE_NO_ACTIVATION_OR_BIAS)

    id: UnitId = Field(description="Unique name of the unit; letters, digits, '_', '-', '.'.")
    role: Role = Field("hidden", description="input, hidden (the default) or output.")
    activation: str | None = Field(
        None,
        description="Activation function f; default sigmoid for hidden, identity for output; "
        "not allowed on inputs.",
        json_schema_extra={"enum": [*ACTIVATION_NAMES, None]},
    )
    bias: FiniteFloat | None = Field(None, description="Bias b_j, default 0; not on inputs.")
    trainable: bool = Field(
        True, description="false keeps the bias b_j at its value through training."
    )

    @property
    def effective_activation(self) -> str | None:
        """The activation this unit computes with: its own, its role's default, or none."""
        if self.role == "input":
            return None
        return self.activation or DEFAULT_ACTIVATION[self.role]


class Edge(_Model):
    """A weighted connection w_{source→target}."""

    source: UnitId
    target: UnitId
    weight: FiniteFloat | None = Field(
        None, description="w_{source→target}; when missing it is initialised from the run's seed."
    )
    trainable: bool = Field(True, description="false keeps the weight at its value in training.")


class Numbering(NamedTuple):
    """A graph's edge ends as indices into the distinct ids they name."""

    ids: tuple[str, ...]
    source_id: NDArray[np.integer]
    target_id: NDArray[np.integer]


class Edges(Sequence[Edge]):
    """A graph's edges, stored as three columns; indexing or iterating gives :class:`Edge`\\ s.

    A file may hold millions of edges, and one Python object per edge would cost more time than
    everything else in loading together. The columns are what the rest of dagnet reads.

    Attributes
    ----------
    sources, targets : tuple of str
        The unit ids at each end of each edge, in file order.
    weights : tuple of float or None
        Each edge's weight, None where the file gives none.
    trainable : tuple of bool
        False where training keeps the edge's weight as it is.
    """

    __slots__ = ("_numbering", "sources", "targets", "trainable", "weights")

    def __init__(
        self,
        sources: Sequence[str] = (),
        targets: Sequence[str] = (),
        weights: Sequence[float | None] | None = None,
        trainable: Sequence[bool] | None = None,
    ) -> None:
        self.sources = tuple(sources)
        self.targets = tuple(targets)
        self.weights = tuple(weights) if weights is not None else (None,) * len(self.sources)
        self.trainable = tuple(trainable) if trainable is not None else (True,) * len(self.sources)
        if not len(self.sources) == len(self.targets) == len(self.weights) == len(self.trainable):
            raise ArgumentError(
                f"edges need as many targets, weights and trainable flags as sources; got "
                f"{len(self.sources)} sources, {len(self.targets)} targets, "
                f"{len(self.weights)} weights and {len(self.trainable)} flags"
            )
        self._numbering: Numbering | None = None

    @classmethod
    def numbered(
        cls,
        ids: Sequence[str],
        source_id: NDArray[np.integer],
        target_id: NDArray[np.integer],
        weights: Sequence[float | None] | None = None,
        trainable: Sequence[bool] | None = None,
    ) -> Edges:
        """Edges whose ends are given as indices into ``ids``, as a compiled reader gives them.

        The numbering is kept (see :attr:`numbering`): the checks then number the ends by unit
        once per distinct id rather than once per edge end.
        """
        names = np.array(ids, dtype=object)
        edges = cls(names[source_id].tolist(), names[target_id].tolist(), weights, trainable)
        source_id, target_id = np.array(source_id), np.array(target_id)  # own, read-only copies
        source_id.setflags(write=False)
        target_id.setflags(write=False)
        edges._numbering = Numbering(tuple(ids), source_id, target_id)
        return edges

    @property
    def numbering(self) -> Numbering | None:
        """The ends as indices into a tuple of distinct ids, when the edges were built so by
        :meth:`numbered`; None otherwise."""
        return self._numbering

    @classmethod
    def of(cls, edges: Iterable[Edge]) -> Edges:
        """The columns of any iterable of :class:`Edge` (an ``Edges`` is returned as it is)."""
        if isinstance(edges, Edges):
            return edges
        edges = list(edges)
        return cls(
            [e.source for e in edges],
            [e.target for e in edges],
            [e.weight for e in edges],
            [e.trainable for e in edges],
        )

    def __len__(self) -> int:
        return len(self.sources)

    @overload
    def __getitem__(self, index: int) -> Edge: ...
    @overload
    def __getitem__(self, index: slice) -> list[Edge]: ...
    def __getitem__(self, index: int | slice) -> Edge | list[Edge]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Edge.model_construct(
            source=self.sources[index],
            target=self.targets[index],
            weight=self.weights[index],
            trainable=self.trainable[index],
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Edges):
            return (self.sources, self.targets, self.weights, self.trainable) == (
                other.sources,
                other.targets,
                other.weights,
                other.trainable,
            )
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(map(repr, self[:3]))
        return f"Edges([{shown}{', ...' if len(self) > 3 else ''}], {len(self)} edges)"

    def dump(self) -> list[dict[str, Any]]:
        """The edges as the file writes them (no ``weight`` key where there is none, and
        ``trainable`` only where it is false)."""
        dumped: list[dict[str, Any]] = [
            {"source": s, "target": t} if w is None else {"source": s, "target": t, "weight": w}
            for s, t, w in zip(self.sources, self.targets, self.weights, strict=True)
        ]
        if not all(self.trainable):
            for edge, trainable in zip(dumped, self.trainable, strict=True):
                if not trainable:
                    edge["trainable"] = False
        return dumped

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Pydantic's own list[Edge] validation is the slow path that words the errors; the JSON
        # Schema is that of list[Edge] too.
        return core_schema.no_info_wrap_validator_function(
            cls._validate,
            handler.generate_schema(list[Edge]),
            serialization=core_schema.plain_serializer_function_ser_schema(cls.dump),
        )

    @classmethod
    def _validate(cls, value: Any, validate_list: Callable[[Any], list[Edge]]) -> Edges:
        if isinstance(value, Edges):
            return value
        columns = _edge_columns(value) if type(value) is list else None
        return cls(*columns) if columns is not None else cls.of(validate_list(value))


_UNIT_ID = re.compile(UNIT_ID_PATTERN)


def _edge_columns(
    items: list[Any],
) -> tuple[list[str], list[str], list[Any], list[bool] | None] | None:
    """The columns of a list of JSON edge objects that break no rule of :class:`Edge`, checked
    with loops that run in C; None when anything is off (Pydantic then finds and words it)."""
    if not set(map(type, items)) <= {dict}:
        return None
    try:
        sources = list(map(itemgetter("source"), items))
        targets = list(map(itemgetter("target"), items))
        ids = set(sources)
        ids.update(targets)
    except (KeyError, TypeError):  # an edge without an end, or an end that is no string
        return None
    if not set(map(type, ids)) <= {str} or not all(map(_UNIT_ID.match, ids)):
        return None
    weights = list(map(methodcaller("get", "weight"), items))
    with_weight = len(weights) - weights.count(None)
    keys = sum(map(len, items))
    trainable = None
    if keys != 2 * len(items) + with_weight:  # flags, a null weight, or another key
        with_flag = sum(map(operator.contains, items, repeat("trainable")))
        if keys != 2 * len(items) + with_weight + with_flag:
            return None
        trainable = list(map(methodcaller("get", "trainable", True), items))
        if not set(map(type, trainable)) <= {bool}:
            return None
    if not set(map(type, weights)) <= {float, int, type(None)}:
        return None
    present = list(compress(weights, map(operator.is_not, weights, repeat(None))))
    try:
        if not all(map(math.isfinite, present)):
            return None
    except OverflowError:  # an integer beyond float range
        return None
    if int in set(map(type, present)):
        weights = [w if type(w) is not int else float(w) for w in weights]
    return sources, targets, weights, trainable


class LossHead(_Model):
    """A loss over some output units, with its weight in the objective: one output alone, or
    several (as a softmax group for ``softmax_cross_entropy``)."""

    name: UnitId | None = Field(
        None,
        description="What reports call it, and the name of a label column that gives a softmax "
        "group's targets as class indices or names; default: its only output's id, or "
        "'losses/K'.",
    )
    outputs: Annotated[tuple[UnitId, ...], AsTuple] = Field(
        min_length=1, description="Output unit ids."
    )
    loss: Literal[LOSS_NAMES]  # type: ignore[valid-type]
    weight: FiniteFloat = Field(1.0, gt=0, description="Its factor in the objective.")
    classes: Annotated[tuple[str, ...], AsTuple] | None = Field(
        None,
        description="A softmax group's class names, one per output in order (what a label "
        "column may hold and --classes writes); default: the output unit ids.",
    )


class OptimizerSettings(_Model):
    """An optimizer with its own settings (the learning rate is ``training.learning_rate``)."""

    name: Literal[OPTIMIZER_NAMES]  # type: ignore[valid-type]
    momentum: FiniteFloat | None = Field(
        None, ge=0, lt=1, description="μ for momentum and nesterov (default 0.9)."
    )
    weight_decay: FiniteFloat | None = Field(
        None, ge=0, description="λ: L2 for the sgd family, decoupled for adam."
    )
    betas: Annotated[tuple[FiniteFloat, FiniteFloat], AsTuple] | None = Field(
        None, description="Adam's (β₁, β₂)."
    )
    epsilon: FiniteFloat | None = Field(None, gt=0, description="Adam's ε.")

    def settings(self) -> dict[str, Any]:
        """The settings given, as keyword arguments of the optimizer."""
        return {k: v for k, v in self.model_dump(exclude={"name"}).items() if v is not None}


def _optimizer_form(value: Any) -> str:
    """Which form ``training.optimizer`` takes, so that a mistake is reported in that form
    alone (a misspelt name is not also "not an object")."""
    return "settings" if isinstance(value, dict | OptimizerSettings) else "name"


class Training(_Model):
    """Defaults for ``dagnet train``; command-line options override them."""

    loss: Literal[LOSS_NAMES] = Field(  # type: ignore[valid-type]
        "squared_error", description="The loss of every output that no entry of 'losses' names."
    )
    losses: Annotated[tuple[LossHead, ...], AsTuple] | None = Field(
        None, description="Losses of particular outputs or softmax groups, each with a weight."
    )
    optimizer: Annotated[
        Annotated[Literal[OPTIMIZER_NAMES], Tag("name")]  # type: ignore[valid-type]
        | Annotated[OptimizerSettings, Tag("settings")],
        Discriminator(_optimizer_form),
    ] = Field("sgd", description="The update rule's name, or an object with its settings.")
    learning_rate: FiniteFloat | None = Field(
        None, gt=0, description="η, the step size; default: the optimizer's own."
    )
    epochs: int = Field(100, ge=1)
    batch_size: int = Field(32, ge=1, description="N, the examples per minibatch.")
    seed: int | None = Field(
        None, ge=0, description="Seeds weight initialisation and shuffling; drawn when missing."
    )
    init: Literal[INITIALISATION_NAMES] = Field(  # type: ignore[valid-type]
        "glorot_uniform", description="How missing weights are drawn from the seed."
    )
    shuffle: bool = True
    dtype: Literal["float64", "float32"] = Field(
        "float64", description="What the engine computes in; float32 halves memory traffic."
    )
    validation_split: FiniteFloat | None = Field(
        None, gt=0, lt=1, description="The share of the examples held out (seeded) to validate."
    )
    early_stopping: int | None = Field(
        None,
        ge=1,
        description="Stop when the validation loss has not improved for this many epochs, and "
        "keep the best epoch's parameters.",
    )

    @property
    def optimizer_name(self) -> str:
        return self.optimizer if isinstance(self.optimizer, str) else self.optimizer.name

    @property
    def optimizer_settings(self) -> dict[str, Any]:
        return {} if isinstance(self.optimizer, str) else self.optimizer.settings()


class Data(_Model):
    """Where the training data is: a CSV or .npz file, or columns written inline."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["path"]}, {"required": ["columns"]}]}
    )

    path: str | None = Field(
        None, min_length=1, description="CSV or .npz file, relative to this file's folder."
    )
    columns: dict[UnitId, list[FiniteFloat]] | None = Field(
        None, description="One list of numbers per input and output unit id."
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Data:
        if (self.path is None) == (self.columns is None):
            raise ValueError("data needs exactly one of 'path' or 'columns'")
        return self


class Trained(_Model):
    """What the last ``dagnet train`` run recorded about itself."""

    final_loss: FiniteFloat = Field(ge=0, description="Mean loss over the training data.")
    epochs: int = Field(ge=1, description="The epochs run.")
    examples: int = Field(ge=1, description="The training examples (validation ones apart).")
    best_epoch: int | None = Field(
        None, ge=1, description="The epoch whose parameters were kept (lowest validation loss)."
    )
    validation_loss: FiniteFloat | None = Field(
        None, description="Mean loss over the validation data, with the kept parameters."
    )
    dagnet_version: str | None = None


class Graph(_Model):
    """A dagnet graph file, format version 2."""

    model_config = ConfigDict(title="dagnet graph")

    schema_uri: str | None = Field(None, alias="$schema")
    format_version: Literal[1, 2] = Field(
        description="Version of this file format: 2 (1 is read as 2, which only added keys)."
    )
    name: str | None = None
    description: str | None = None
    units: tuple[Unit, ...]
    edges: Edges
    training: Training | None = None
    data: Data | None = None
    trained: Trained | None = None

    # What dagnet.graph.checks found, kept so that a graph loaded and then compiled is checked
    # once; the graph cannot change, and a copy with changes starts without it.
    _inspection: Any = PrivateAttr(default=None)

    @field_validator("units", mode="before")
    @classmethod
    def _units_as_tuple(cls, value: Any) -> Any:
        # A file's array, or a list in Python, is kept as a tuple: a frozen graph's units
        # cannot be appended to behind the checks' back.
        return tuple(value) if isinstance(value, list) else value

    def __eq__(self, other: object) -> bool:
        # Two graphs are equal when the files would be: what was remembered about them is not
        # part of them.
        if not isinstance(other, Graph):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # (equal graphs must hash alike; none need to)

    @property
    def inspection(self) -> Any:
        """What :func:`dagnet.graph.checks.examine` found for this graph, once it has run."""
        return self._inspection

    def remember_inspection(self, inspection: Any) -> None:
        self._inspection = inspection

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Graph:
        """A copy with ``update`` applied, validated as a file would be for types (new edges,
        given as any iterable of Edge, are stored as :class:`Edges`; units as a tuple)."""
        if update is not None:
            update = dict(update)
            if "edges" in update:
                update["edges"] = Edges.of(update["edges"])
            if "units" in update:
                update["units"] = tuple(update["units"])
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._inspection = None
        return copy
