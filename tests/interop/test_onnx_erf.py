"""erf in float64 from basic ONNX operators: onnxruntime computes it as the C library's erf,
to about an ulp, in a fixed number of nodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime

from dagnet.interop.onnx_erf import DEGREE, PIECES, coefficients, erf_float64, erf_table
from dagnet.interop.onnx_export import OPSET, _Nodes

DOUBLE = onnx.TensorProto.DOUBLE


def erf_model() -> tuple[onnxruntime.InferenceSession, int]:
    nodes = _Nodes(onnx, np.dtype(np.float64))
    output = erf_float64("x", nodes)
    graph = onnx.helper.make_graph(
        nodes.nodes,
        "erf",
        [onnx.helper.make_tensor_value_info("x", DOUBLE, ["N"])],
        [onnx.helper.make_tensor_value_info(output, DOUBLE, ["N"])],
        initializer=nodes.initializers,
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session, len(nodes.nodes)


def test_onnxruntime_computes_the_c_librarys_erf_to_an_ulp() -> None:
    session, count = erf_model()
    assert count == 16
    x = np.concatenate([
        np.random.default_rng(0).uniform(-7, 7, 200_000),
        np.linspace(-6.5, 6.5, 52_001),  # every piece's ends (multiples of 1/4) among them
        [0.0, -0.0, 5e-324, -1e-300, 5.93, 6.0, -6.0, 40.0, -1e300],
    ])  # fmt: skip
    y = session.run(None, {"x": x})[0]
    expected = np.array([math.erf(v) for v in x.tolist()])
    assert np.abs(y - expected).max() <= 2.3e-16
    assert y[-9] == 0.0  # (near 0 the error is absolute, not relative: all that 1 + erf needs)
    np.testing.assert_array_equal(y[-4:], [1.0, -1.0, 1.0, -1.0])  # clipped at |x| = 6


def test_each_piece_is_erfs_taylor_polynomial() -> None:
    table = erf_table()
    assert table.shape == (PIECES, DEGREE + 1)
    # Piece 4 is [1, 1.25]: about 1.125, in t = 8(x - 1.125).
    np.testing.assert_array_equal(table[4], coefficients(1.125, 0.125, DEGREE))
    assert table[4, 0] == math.erf(1.125)
    # The last terms are below the rounding of erf itself: the truncation costs nothing.
    assert np.abs(table[:, -1]).max() < 1e-19
    # By hand: erf'(c) = 2/√π e^(−c²), times the half-width, is the linear coefficient.
    assert math.isclose(table[4, 1], 2 / math.sqrt(math.pi) * math.exp(-(1.125**2)) * 0.125)
