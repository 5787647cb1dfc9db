"""FANN interop: a ``.net`` file saved by libfann (``FANN_FLO_2.1``) becomes a dagnet graph.

Standard (layered), shortcut and sparse networks are read from their explicit neuron and
connection lists. A neuron of libfann computes ``f(clip(k · Σ w v))``: the sum over its
connections (bias neurons, whose value is 1, become the unit's bias) multiplied by the neuron's
steepness k, clipped to ±150/k (libfann's ``fann_run``), then its activation. dagnet multiplies
each in-edge weight by the steepness (and by a constant inside the function: FANN's sigmoid is
σ(2s), so that one is σ with the weights doubled); where the clip can change the value (linear,
sin and cos neurons, Elliot's slow saturation, very steep neurons), the neuron becomes two
units, ``nI_sum`` (clamped, weights divided by the bound) feeding ``nI`` (one edge of weight the
bound), which clip exactly as libfann does; where it cannot (f at the bound equals f beyond it
to 10⁻⁷), it is left out. Unit ids are ``n`` and the neuron's index in the file (``n0`` is the
first input); inputs and outputs keep libfann's order. Fixed-point files (``FANN_FIX``) are
refused, not converted: their weights are integers with a decimal point the file records, and
libfann computes them in integer arithmetic that dagnet does not reproduce. Files with stored
scaling parameters are refused too: ``fann_run`` does not apply them, and which of the two
meanings a user wants cannot be guessed. ``FANN_GAUSSIAN_STEPWISE``, which libfann computes as
0, is refused by name.

The numbers are read as written (``precision="double"``), which is what libfann's double build
(doublefann, python3-fann2) reads. Its float build (floatfann, the one ``fann.h`` means) reads
each weight and steepness as a float32 (``fscanf("%f")``); ``precision="float"`` rounds them
the same way (and takes its clip bound 150/k in float32), so that the graph is the network
floatfann runs. Both readings take the same numbers from a file floatfann saved (they are
float32s already); on a file doublefann saved they differ by up to 6 × 10⁻⁸ per number.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dagnet.errors import GraphFileError
from dagnet.functions.activations import ACTIVATIONS
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import validate_document
from dagnet.interop.neat import ImportRefused

__all__ = ["FANN_ACTIVATIONS", "Precision", "graph_from_fann", "is_fann_text", "read_fann"]

Precision = Literal["double", "float"]
"""Which libfann build's reading of a file's numbers to reproduce."""

FANN_ACTIVATIONS: dict[int, tuple[str, str, float]] = {
    0: ("FANN_LINEAR", "identity", 1.0),
    1: ("FANN_THRESHOLD", "step", 1.0),
    2: ("FANN_THRESHOLD_SYMMETRIC", "step_symmetric", 1.0),
    3: ("FANN_SIGMOID", "sigmoid", 2.0),
    4: ("FANN_SIGMOID_STEPWISE", "fann_sigmoid_stepwise", 1.0),
    5: ("FANN_SIGMOID_SYMMETRIC", "tanh", 1.0),
    6: ("FANN_SIGMOID_SYMMETRIC_STEPWISE", "fann_sigmoid_symmetric_stepwise", 1.0),
    7: ("FANN_GAUSSIAN", "gaussian", 1.0),
    8: ("FANN_GAUSSIAN_SYMMETRIC", "gaussian_symmetric", 1.0),
    10: ("FANN_ELLIOT", "elliot", 1.0),
    11: ("FANN_ELLIOT_SYMMETRIC", "softsign", 1.0),
    12: ("FANN_LINEAR_PIECE", "linear_piece", 1.0),
    13: ("FANN_LINEAR_PIECE_SYMMETRIC", "clamped", 1.0),
    14: ("FANN_SIN_SYMMETRIC", "sin", 1.0),
    15: ("FANN_COS_SYMMETRIC", "cos", 1.0),
    16: ("FANN_SIN", "fann_sin", 1.0),
    17: ("FANN_COS", "fann_cos", 1.0),
    18: ("FANN_LINEAR_PIECE_RECT", "relu", 1.0),
    19: ("FANN_LINEAR_PIECE_RECT_LEAKY", "leaky_relu", 1.0),
}
"""libfann's activation code → (its name, the dagnet activation, the factor inside f: FANN's
sigmoid is 1/(1 + e^(−2s)) = σ(2s)). Codes 18 and 19 are libfann 2.3's; the fixtures, made
with libfann 2.2, do not cover them."""

CLIP = 150.0
"""libfann clips a neuron's steepness-multiplied sum to ±CLIP/steepness."""

_NEURON = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*,\s*([^)\s]+)\s*\)")
_CONNECTION = re.compile(r"\(\s*(\d+)\s*,\s*([^)\s]+)\s*\)")


def is_fann_text(text: str) -> bool:
    """Whether ``text`` is a FANN ``.net`` file (of any version or number type)."""
    return text.startswith("FANN_")


def read_fann(path: str | os.PathLike[str], *, precision: Precision = "double") -> Graph:
    """The graph of a FANN ``.net`` file (see :func:`graph_from_fann`)."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportRefused(f"{path}: cannot read a FANN .net file: {exc}") from None
    return graph_from_fann(text, where=str(path), precision=precision)


@dataclass(frozen=True)
class _Neuron:
    index: int
    inputs: int
    function: int
    steepness: float


def graph_from_fann(
    text: str, *, where: str | None = None, precision: Precision = "double"
) -> Graph:
    """The dagnet graph computing what libfann's ``fann_run`` computes for a ``.net`` file.

    Parameters
    ----------
    text : str
        The file's text, as ``fann_save`` writes it (``FANN_FLO_2.1``).
    where : str, optional
        The file's name, for messages.
    precision : {"double", "float"}
        Read weights and steepnesses as written, as libfann's double build does, or rounded to
        float32 as its float build does (then compare with floatfann on inputs rounded to
        float32 too, which is what its ``fann_run`` receives).

    Raises
    ------
    ImportRefused
        For a fixed-point file, stored scaling parameters, FANN_GAUSSIAN_STEPWISE, a negative
        steepness, or a file that is not such a network; the message names the neuron.

    Examples
    --------
    >>> text = '''FANN_FLO_2.1
    ... num_layers=2
    ... network_type=0
    ... layer_sizes=2 2
    ... scale_included=0
    ... neurons (num_inputs, activation_function, activation_steepness)=(0, 0, 0.0) (0, 0, 0.0) (2, 5, 0.5) (0, 0, 0.0)
    ... connections (connected_to_neuron, weight)=(0, 1.5) (1, -2.0)
    ... '''
    >>> graph = graph_from_fann(text)
    >>> [(u.id, u.role, u.activation, u.bias) for u in graph.units]
    [('n0', 'input', None, None), ('n2', 'output', 'tanh', -1.0)]
    >>> graph.edges[0].weight
    0.75
    """  # noqa: E501

    def refuse(message: str) -> ImportRefused:
        return ImportRefused(f"{where}: {message}" if where else message)

    if precision not in ("double", "float"):
        raise ValueError(f"precision must be 'double' or 'float', not {precision!r}")
    number = float if precision == "double" else _float32

    header, _, _ = text.partition("\n")
    header = header.strip()
    if header.startswith("FANN_FIX"):
        raise refuse(f"{header} is a fixed-point network, which dagnet refuses: it computes "
                     "in floating point; save the network with the float libfann (fann_save "
                     "of floatfann) instead")  # fmt: skip
    if header != "FANN_FLO_2.1":
        raise refuse(f"{header[:40]!r} is not a FANN_FLO_2.1 .net file")
    fields: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        key, equals, value = line.partition("=")
        if equals:
            fields[key.strip()] = value
    try:
        sizes = [int(v) for v in fields["layer_sizes"].split()]
        network_type = int(fields.get("network_type", "0"))
        scaled = int(fields.get("scale_included", "0"))
        neuron_text = next(v for k, v in fields.items() if k.startswith("neurons"))
        connection_text = next(v for k, v in fields.items() if k.startswith("connections"))
    except (KeyError, StopIteration, ValueError):
        raise refuse("not a FANN network: layer_sizes, neurons or connections is missing or "
                     "unreadable") from None  # fmt: skip
    if scaled:
        raise refuse("the file stores scaling parameters (scale_included=1), which fann_run "
                     "does not apply and dagnet will not guess at; scale the data yourself "
                     "(fann_scale_input, fann_descale_output) and save the network without "
                     "them (fann_clear_scaling_params)")  # fmt: skip
    neurons = [
        _Neuron(position, int(n), int(f), number(k))
        for position, (n, f, k) in enumerate(_NEURON.findall(neuron_text))
    ]
    connections = [(int(i), number(w)) for i, w in _CONNECTION.findall(connection_text)]
    if len(neurons) != sum(sizes) or len(connections) != sum(n.inputs for n in neurons):
        raise refuse(f"the file lists {len(neurons)} neurons and {len(connections)} "
                     f"connections, which layer_sizes {sizes} and the neurons' num_inputs do "
                     "not add up to")  # fmt: skip

    n_inputs = sizes[0] - 1
    last = sum(sizes[:-1])
    n_outputs = sizes[-1] - 1 if network_type == 0 else sizes[-1]
    inputs = set(range(n_inputs))
    outputs = list(range(last, last + n_outputs))
    output_set = set(outputs)
    constant = {n.index for n in neurons if n.inputs == 0 and n.index not in inputs}
    """Bias neurons, and any other neuron without connections: fann_run sets those to 1."""

    units: list[dict[str, Any]] = [{"id": f"n{i}", "role": "input"} for i in range(n_inputs)]
    edges: list[dict[str, Any]] = []
    tail: list[dict[str, Any]] = []
    first = 0
    for neuron in neurons:
        own = connections[first : first + neuron.inputs]
        first += neuron.inputs
        if neuron.inputs == 0:
            if neuron.index in output_set:  # an output without connections is a constant 1
                tail.append({"id": f"n{neuron.index}", "role": "output", "bias": 1.0})
            continue
        name = f"neuron {neuron.index} (n{neuron.index})"
        if neuron.function == 9:
            raise refuse(f"{name}: FANN_GAUSSIAN_STEPWISE is not imported: libfann computes it "
                         "as 0 whatever the input")  # fmt: skip
        if neuron.function not in FANN_ACTIVATIONS:
            raise refuse(f"{name}: unknown activation function code {neuron.function}")
        k = neuron.steepness
        if not math.isfinite(k) or k < 0.0:
            raise refuse(f"{name}: steepness {k!r} is not imported: libfann's clip of the sum "
                         "to ±150/steepness needs a steepness ≥ 0")  # fmt: skip
        for source, _ in own:
            if source >= neuron.index:
                raise refuse(f"{name}: its connection from neuron {source} does not go forward")
        _, activation, inner = FANN_ACTIVATIONS[neuron.function]
        role = "output" if neuron.index in output_set else "hidden"
        gain = inner * k  # s = inner · k · Σ w v
        bound = inner * _limit(k, precision) if k > 0.0 else math.inf
        clip = k > 0.0 and _clip_matters(ACTIVATIONS[activation].f, bound)
        scale = gain / bound if clip else gain
        bias = sum(w for source, w in own if source in constant) * scale
        target = f"n{neuron.index}_sum" if clip else f"n{neuron.index}"
        edges += [
            {"source": f"n{source}", "target": target, "weight": w * scale}
            for source, w in own
            if source not in constant
        ]
        unit = {"id": f"n{neuron.index}", "role": role, "activation": activation, "bias": 0.0}
        if clip:
            units.append({"id": target, "activation": "clamped", "bias": bias})
            edges.append({"source": target, "target": unit["id"], "weight": bound})
        else:
            unit["bias"] = bias
        (tail if role == "output" else units).append(unit)
    # Outputs last, in libfann's order (an output may feed nothing but it is still last).
    tail.sort(key=lambda unit: int(unit["id"][1:]))
    units += tail
    document = {
        "format_version": FORMAT_VERSION,
        "name": "fann",
        "description": "imported from a FANN_FLO_2.1 .net file "
        f"({['standard', 'shortcut'][network_type] if network_type in (0, 1) else '?'}, "
        f"connection rate {fields.get('connection_rate', '1').strip()})",
        "units": units,
        "edges": edges,
    }
    graph, problems = validate_document(document)
    if graph is None or any(p.is_error for p in problems):
        raise GraphFileError(where, problems)
    return graph


def _clip_matters(f: Callable[[float], float], bound: float) -> bool:
    """Whether clipping s to ±bound can change f(s): f at the bound differs from f far beyond it
    (by more than 10⁻⁷, below libfann's float rounding)."""
    for side in (1.0, -1.0):
        at, beyond = f(side * bound), f(side * max(1e6, 1e3 * bound))
        if not abs(at - beyond) <= 1e-7:
            return True
    return False


def _limit(k: float, precision: Precision) -> float:
    """libfann's ``max_sum = 150/steepness``, in the build's own type (exact for the factor 2 of
    FANN's sigmoid, which the caller multiplies in)."""
    if precision == "double":
        return CLIP / k
    return float(np.float32(CLIP) / np.float32(k))


def _float32(text: str) -> float:
    """The float32 nearest to the decimal ``text``, as C's ``strtof`` (floatfann's
    ``fscanf("%f")``) reads it: through a double, checked against the exact decimal, since
    rounding twice can land on the other neighbour of a halfway double.

    Examples
    --------
    >>> _float32("0.1"), _float32("-1.50000000000000000000e+00")
    (0.10000000149011612, -1.5)
    """
    value = float(text)
    single = np.float32(value)
    if not math.isfinite(value) or float(single) == value:
        return float(single)
    exact = Fraction(text)
    candidates = (np.nextafter(single, np.float32(-np.inf)), single,
                  np.nextafter(single, np.float32(np.inf)))  # fmt: skip
    distances = [abs(Fraction(float(c)) - exact) for c in candidates]
    best = min(distances)
    if distances[1] == best:  # the double's rounding, ties to even included
        return float(single)
    return float(candidates[distances.index(best)])
