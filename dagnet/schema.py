"""The graph file format, version 1, as Pydantic models; and its JSON Schema.

These models describe what a person writes: each object refuses unknown keys (they are usually
typos), numbers must be finite, and types are strict (``"0.5"`` is not a number). Rules that
relate several parts of a file (unique ids, edges naming known units, no cycles, known activation
names) are not structural and live in :mod:`dagnet.checks`, so that one run reports all of them.

This module is the single source of the format's names: :data:`ACTIVATION_NAMES`,
:data:`LOSS_NAMES`, :data:`OPTIMIZER_NAMES`. It imports nothing else from dagnet and no numpy.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FORMAT_VERSION = 1
"""The newest ``format_version`` this dagnet reads and the one it writes."""

ACTIVATION_NAMES = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gaussian",
    "sin",
)
LOSS_NAMES = ("squared_error",)
OPTIMIZER_NAMES = ("sgd",)
DEFAULT_ACTIVATION = {"hidden": "sigmoid", "output": "identity"}

UNIT_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
UnitId = Annotated[str, StringConstraints(pattern=UNIT_ID_PATTERN)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Role = Literal["input", "hidden", "output"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


# Lets other tools see in the schema what dagnet.checks enforces for input units.
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


class Training(_Model):
    """Defaults for ``dagnet train``; command-line options override them."""

    loss: Literal["squared_error"] = "squared_error"
    optimizer: Literal["sgd"] = "sgd"
    learning_rate: FiniteFloat = Field(0.1, gt=0, description="η, the step size.")
    epochs: int = Field(100, ge=1)
    batch_size: int = Field(32, ge=1, description="N, the examples per minibatch.")
    seed: int | None = Field(
        None, ge=0, description="Seeds weight initialisation and shuffling; drawn when missing."
    )
    shuffle: bool = True
    dtype: Literal["float64", "float32"] = Field(
        "float64", description="What the engine computes in; float32 halves memory traffic."
    )


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
    epochs: int = Field(ge=1)
    examples: int = Field(ge=1)
    dagnet_version: str | None = None


class Graph(_Model):
    """A dagnet graph file, format version 1."""

    model_config = ConfigDict(title="dagnet graph")

    schema_uri: str | None = Field(None, alias="$schema")
    format_version: Literal[1] = Field(description="Version of this file format.")
    name: str | None = None
    description: str | None = None
    units: list[Unit]
    edges: list[Edge]
    training: Training | None = None
    data: Data | None = None
    trained: Trained | None = None


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of format v1, generated from the models.

    Returns
    -------
    dict
        The schema document that ``dagnet schema`` prints and ``schemas/`` holds.
    """
    schema = Graph.model_json_schema(by_alias=True)
    return {"$schema": SCHEMA_DIALECT, **schema}


def json_schema_text() -> str:
    """The JSON Schema as the text committed in ``schemas/graph.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
