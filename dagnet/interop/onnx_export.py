"""ONNX export: a network as an ONNX model, for serving with onnxruntime or any ONNX engine.

The model has one input, ``inputs`` (N, input units in file order), and one output, ``outputs``
(N, output units in file order), in the network's precision (float64 or float32), and uses
operators of the default domain at opset :data:`OPSET`. Its outputs are what ``dagnet predict``
writes (:meth:`~dagnet.engine.network.Network.probabilities`): ŷ, which for a cross-entropy
output is its probability σ(s), and for a softmax group the group's probabilities (the loss's
:attr:`~dagnet.functions.losses.Loss.onnx_probability`, a ``Softmax`` over its logits). It
computes the network a topological level at a time (:mod:`dagnet.interop.levels`), so its size
grows with levels × activation kinds, not with units: per level, a ``Gather`` of the sources'
columns of the state, one ``MatMul`` with the level's weights and an ``Add`` of its biases, each
activation applied to its slice of the level (the nodes of
:attr:`dagnet.functions.activations.Activation.onnx`), and a ``Concat`` of the level onto the
state; at the end, a ``Gather`` of the outputs, and per softmax group a ``Gather`` and a
``Softmax`` that a last ``Concat`` and ``Gather`` put in the group's place. onnx and onnxruntime
are the optional extra ``onnx`` (``pip install 'dagnet[onnx]'``), imported only here and only
when used.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from dagnet import __version__
from dagnet.engine.network import Network
from dagnet.errors import ArgumentError
from dagnet.functions.activations import ACTIVATIONS
from dagnet.interop.extras import require
from dagnet.interop.levels import level_layout
from dagnet.interop.onnx_trace import trace

__all__ = [
    "INPUT_NAME",
    "OPSET",
    "OUTPUT_NAME",
    "require_onnx",
    "to_onnx",
    "to_onnx_bytes",
]

OPSET = 17
"""The ONNX operator set the models use."""

INPUT_NAME, OUTPUT_NAME = "inputs", "outputs"


def require_onnx(what: str) -> ModuleType:
    """The module ``onnx``, or an :class:`~dagnet.errors.ExtraMissing` naming the extra."""
    return require("onnx", what)


class _Nodes:
    """Builds the node list: unique names, initializers, one cached constant per scalar."""

    def __init__(self, onnx: ModuleType, dtype: np.dtype[Any]) -> None:
        self.onnx, self.dtype = onnx, dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._scalars: dict[float, str] = {}
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        output = self.name(op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output], **attributes))
        return output

    def output(self, op_type: str, *inputs: str, **attributes: Any) -> None:
        """The last node, whose output is the model's."""
        self.nodes.append(
            self.onnx.helper.make_node(op_type, list(inputs), [OUTPUT_NAME], **attributes)
        )

    def constant(self, stem: str, values: NDArray[Any]) -> str:
        name = self.name(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(values), name))
        return name

    def scalar(self, value: float) -> str:
        if value not in self._scalars:
            self._scalars[value] = self.constant("scalar", np.array(value, dtype=self.dtype))
        return self._scalars[value]


def _activate(name: str, s: str, nodes: _Nodes) -> str:
    """z = f(s) as ONNX nodes: the entry's own ONNX form, or its array form read as nodes."""
    entry = ACTIVATIONS[name]
    return entry.onnx(s, nodes) if entry.onnx is not None else trace(entry.array, s, nodes)


def _probabilities(net: Network, columns: NDArray[np.int64], state: str, nodes: _Nodes) -> None:
    """The node of the model's output: the outputs' state columns, each head's probabilities in
    place of its ŷ where they differ (a softmax group's), as :meth:`Network.probabilities`."""
    heads = [head for head in net.heads if head.function.onnx_probability is not None]
    index = nodes.constant("output_columns", columns.astype(np.int64))
    if not heads:
        nodes.output("Gather", state, index, axis=1)
        return
    # Each head's probabilities follow the plain outputs in one Concat, and a last Gather puts
    # every output back in its place: a constant number of nodes per head.
    parts = [nodes.op("Gather", state, index, axis=1)]
    place = np.arange(len(columns), dtype=np.int64)
    offset = len(columns)
    for head in heads:
        slots = np.array(head.slots, dtype=np.int64)
        y_hat = nodes.op("Gather", state, nodes.constant("head_columns", columns[slots]), axis=1)
        probability = head.function.onnx_probability
        assert probability is not None
        parts.append(probability(y_hat, nodes))
        place[slots] = offset + np.arange(len(slots))
        offset += len(slots)
    joined = nodes.op("Concat", *parts, axis=1)
    nodes.output("Gather", joined, nodes.constant("output_order", place), axis=1)


def to_onnx(net: Network, dtype: DTypeLike | None = None) -> Any:
    """The network as an ``onnx.ModelProto`` (see the module docstring for its shape).

    Parameters
    ----------
    net : Network
        Its current weights and biases are written into the model.
    dtype : float64 or float32, optional
        The model's precision; defaults to the network's (``net.dtype``).

    Raises
    ------
    ExtraMissing
        When onnx is not installed.
    ArgumentError
        When ``dtype`` is neither float64 nor float32.

    Examples
    --------
    >>> import numpy as np, onnxruntime, dagnet
    >>> from dagnet.interop.onnx_export import to_onnx
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> model = to_onnx(net)
    >>> session = onnxruntime.InferenceSession(model.SerializeToString(),
    ...                                        providers=["CPUExecutionProvider"])
    >>> x = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> bool(np.allclose(session.run(None, {"inputs": x})[0], net.forward(x), atol=1e-12))
    True
    """
    onnx = require_onnx("exporting to ONNX")
    precision = np.dtype(net.dtype if dtype is None else dtype)
    if precision not in (np.float64, np.float32):
        raise ArgumentError(f"dtype must be float64 or float32, not {precision}")
    element = onnx.helper.np_dtype_to_tensor_dtype(precision)
    plan = net.plan
    layout = level_layout(plan)
    weight = np.asarray(net.weight, dtype=precision)
    bias = np.asarray(net.bias, dtype=precision)
    nodes = _Nodes(onnx, precision)
    state = INPUT_NAME
    for number, level in enumerate(layout.levels, start=1):
        columns = nodes.constant(f"level{number}_sources", level.sources.astype(np.int64))
        gathered = nodes.op("Gather", state, columns, axis=1)
        matrix = nodes.constant(f"level{number}_weights", layout.matrix(weight, level))
        product = nodes.op("MatMul", gathered, matrix)
        biases = nodes.constant(f"level{number}_biases", layout.bias_of(bias, level))
        s = nodes.op("Add", product, biases)
        if len(level.runs) == 1:
            z = _activate(level.runs[0][0], s, nodes)
        else:
            parts = []
            for name, start, end in level.runs:
                piece = nodes.op(
                    "Slice",
                    s,
                    nodes.constant("start", np.array([start], np.int64)),
                    nodes.constant("end", np.array([end], np.int64)),
                    nodes.constant("axis", np.array([1], np.int64)),
                )
                parts.append(_activate(name, piece, nodes))
            z = nodes.op("Concat", *parts, axis=1)
        state = nodes.op("Concat", state, z, axis=1)
    _probabilities(net, layout.output_columns, state, nodes)
    graph = onnx.helper.make_graph(
        nodes.nodes,
        net.graph.name or "dagnet",
        [onnx.helper.make_tensor_value_info(INPUT_NAME, element, ["N", len(net.input_ids)])],
        [onnx.helper.make_tensor_value_info(OUTPUT_NAME, element, ["N", len(net.output_ids)])],
        initializer=nodes.initializers,
        doc_string=f"inputs: {', '.join(net.input_ids)}; outputs: {', '.join(net.output_ids)}",
    )
    model = onnx.helper.make_model(
        graph,
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="dagnet",
        producer_version=__version__,
    )
    model.ir_version = min(model.ir_version, 8)  # what every onnxruntime since 1.10 reads
    onnx.checker.check_model(model, full_check=True)
    return model


def to_onnx_bytes(net: Network, dtype: DTypeLike | None = None) -> bytes:
    """:func:`to_onnx`, serialised: the bytes of a ``.onnx`` file.

    Examples
    --------
    >>> import dagnet
    >>> from dagnet.interop.onnx_export import to_onnx_bytes
    >>> len(to_onnx_bytes(dagnet.Network(dagnet.load_graph("graphs/xor.json")))) > 0
    True
    """
    return bytes(to_onnx(net, dtype).SerializeToString())
