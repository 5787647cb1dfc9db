"""An activation's array form, read as ONNX nodes: the formula the table writes once, traced.

Every entry of :data:`dagnet.functions.activations.ACTIVATIONS` computes f over arrays with
``array(s, xp)``, ``xp`` the numpy or torch module. Given :data:`NAMESPACE` as ``xp`` and a
:class:`Traced` value as ``s``, the same formula adds one ONNX node per operation instead of
computing, so an activation needs no ONNX form of its own (an entry may still give one, for
ONNX's fused operators such as Sigmoid). Only what the table's formulas use is here; anything
else raises an AttributeError at export time, naming the missing piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dagnet.functions.activations import OnnxNodes
from dagnet.interop.onnx_erf import erf_float64

__all__ = ["NAMESPACE", "Traced", "trace"]


@dataclass(frozen=True, eq=False)  # == builds an Equal node, as it compares arrays elementwise
class Traced:
    """A value of the ONNX graph under construction: its name, and whether it is a boolean."""

    name: str
    nodes: OnnxNodes
    boolean: bool = False

    # Each operation adds its node; numbers become the model's scalar constants.

    def _of(self, other: Any) -> str:
        if isinstance(other, Traced):
            return other.as_number().name
        return self.nodes.scalar(float(other))

    def _op(self, op_type: str, *inputs: str, boolean: bool = False) -> Traced:
        return Traced(self.nodes.op(op_type, *inputs), self.nodes, boolean)

    def as_number(self) -> Traced:
        if not self.boolean:
            return self
        zero = self.nodes.scalar(0.0)  # a value of the model's floating type, to cast like
        return self._op("CastLike", self.name, zero)

    def __add__(self, other: Any) -> Traced:
        return self._op("Add", self.as_number().name, self._of(other))

    def __radd__(self, other: Any) -> Traced:
        return self._op("Add", self._of(other), self.as_number().name)

    def __sub__(self, other: Any) -> Traced:
        return self._op("Sub", self.as_number().name, self._of(other))

    def __rsub__(self, other: Any) -> Traced:
        return self._op("Sub", self._of(other), self.as_number().name)

    def __mul__(self, other: Any) -> Traced:
        return self._op("Mul", self.as_number().name, self._of(other))

    def __rmul__(self, other: Any) -> Traced:
        return self._op("Mul", self._of(other), self.as_number().name)

    def __truediv__(self, other: Any) -> Traced:
        return self._op("Div", self.as_number().name, self._of(other))

    def __rtruediv__(self, other: Any) -> Traced:
        return self._op("Div", self._of(other), self.as_number().name)

    def __pow__(self, power: Any) -> Traced:
        return self._op("Pow", self.as_number().name, self._of(power))

    def __neg__(self) -> Traced:
        return self._op("Neg", self.as_number().name)

    def __gt__(self, other: Any) -> Traced:
        return self._op("Greater", self.name, self._of(other), boolean=True)

    def __ge__(self, other: Any) -> Traced:
        return self._op("GreaterOrEqual", self.name, self._of(other), boolean=True)

    def __lt__(self, other: Any) -> Traced:
        return self._op("Less", self.name, self._of(other), boolean=True)

    def __le__(self, other: Any) -> Traced:
        return self._op("LessOrEqual", self.name, self._of(other), boolean=True)

    def __eq__(self, other: Any) -> Traced:  # type: ignore[override]
        return self._op("Equal", self.as_number().name, self._of(other), boolean=True)

    def __ne__(self, other: Any) -> Traced:  # type: ignore[override]
        return self._op("Not", (self == other).name, boolean=True)

    __hash__ = object.__hash__

    def __and__(self, other: Traced) -> Traced:
        return self._op("And", self.name, other.name, boolean=True)

    def __or__(self, other: Traced) -> Traced:
        return self._op("Or", self.name, other.name, boolean=True)


class _Namespace:
    """The ``xp`` of the table's formulas, over :class:`Traced` values."""

    @staticmethod
    def where(condition: Traced, a: Any, b: Any) -> Traced:
        first = a if isinstance(a, Traced) else condition
        return first._op("Where", condition.name, first._of(a), first._of(b))

    @staticmethod
    def exp(s: Traced) -> Traced:
        return s._op("Exp", s.as_number().name)

    @staticmethod
    def expm1(s: Traced) -> Traced:
        return _Namespace.exp(s) - 1.0

    @staticmethod
    def log(s: Traced) -> Traced:
        return s._op("Log", s.as_number().name)

    @staticmethod
    def tanh(s: Traced) -> Traced:
        return s._op("Tanh", s.as_number().name)

    @staticmethod
    def sin(s: Traced) -> Traced:
        return s._op("Sin", s.as_number().name)

    @staticmethod
    def cos(s: Traced) -> Traced:
        return s._op("Cos", s.as_number().name)

    @staticmethod
    def abs(s: Traced) -> Traced:
        return s._op("Abs", s.as_number().name)

    @staticmethod
    def erf(s: Traced) -> Traced:
        if s.nodes.dtype == np.float64:  # onnxruntime has Erf in float32 only
            return Traced(erf_float64(s.as_number().name, s.nodes), s.nodes)
        return s._op("Erf", s.as_number().name)

    @staticmethod
    def minimum(a: Traced, b: Any) -> Traced:
        return a._op("Min", a.as_number().name, a._of(b))

    @staticmethod
    def maximum(a: Traced, b: Any) -> Traced:
        return a._op("Max", a.as_number().name, a._of(b))

    @staticmethod
    def clip(s: Traced, low: float | None, high: float | None) -> Traced:
        if low is not None:
            s = _Namespace.maximum(s, low)
        return _Namespace.minimum(s, high) if high is not None else s

    @staticmethod
    def logaddexp(a: Traced, b: Any) -> Traced:
        # ln(e^a + e^b) = max(a, b) + ln(1 + e^−|a − b|), which cannot overflow.
        larger = _Namespace.maximum(a, b)
        gap = _Namespace.abs(a - b)
        return larger + _Namespace.log(1.0 + _Namespace.exp(-gap))


NAMESPACE = _Namespace()


def trace(formula: Any, s: str, nodes: OnnxNodes) -> str:
    """The name of ``formula(s, xp)``'s output, the formula read as ONNX nodes."""
    result = formula(Traced(s, nodes), NAMESPACE)
    return result.as_number().name  # type: ignore[no-any-return]
