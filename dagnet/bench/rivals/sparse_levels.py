"""The sparse-matrix rivals: the training step level by level, each level's edges one CSR
matrix, forward and backward written out by hand (no autograd), in two libraries.

- :func:`torch_csr_step`: ``torch.sparse_csr_tensor`` products (PyTorch's own threads).
- :func:`scipy_csr_step`: ``scipy.sparse.csr_array`` products (one thread, as scipy has).

Per level L, with ``src`` the distinct sources of its edges and W_L its CSR matrix (the level's
units × ``src``): forward, gather z[src], s_L = W_L z[src] + b_L, z_L = f(s_L); backward, from
the last level down, δ_L = f'(s_L) ⊙ g_L plus the loss's part at the outputs, where g collects
Σ_k w_jk δ_k: g[src] += W_Lᵀ δ_L, the product with the transposed CSR (whose values are W_L's
in another order, refreshed after each update). ∂E/∂w of an edge j → i of level L is
Σ_n δ_i z_j, taken at the CSR's entries only (a sampled product). Then w −= (η/N) ∂E/∂w and
b −= (η/N) Σ_n δ. The units are numbered level by level (:class:`~.common.Layout`), so a level's
rows of s, z, δ and g are one slice. The loss is the network's own, by
:func:`~dagnet.functions.losses.head_delta`. Neither library is imported until a builder is.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import DTypeLike, NDArray

from dagnet.bench.rivals.common import IntArray, Parameters, Step, float_dtype, layout_of
from dagnet.engine.network import Network
from dagnet.functions.activations import ACTIVATIONS
from dagnet.functions.losses import head_delta

__all__ = ["scipy_csr_step", "torch_csr_step"]


@dataclass(frozen=True)
class _Level:
    """One level's edges as a CSR matrix and its transpose, as index arrays (numpy)."""

    first: int  # the level's units are rows first .. end - 1 of the state
    end: int
    edges: IntArray  # Plan edge of each CSR entry, in CSR order
    sources: IntArray  # state rows of the distinct sources (the CSR's columns)
    indptr: IntArray
    indices: IntArray
    rows: IntArray  # the row of each CSR entry (local)
    transposed_indptr: IntArray
    transposed_indices: IntArray
    transposed_order: IntArray  # CSR entry of each entry of the transpose
    runs: list[tuple[str, int, int]]  # (activation, first, end), local rows


def _levels(net: Network) -> tuple[Any, list[_Level]]:
    """The layout and every level above the inputs as CSR index arrays."""
    plan = net.plan
    layout = layout_of(plan)
    target_rank = layout.rank[plan.edge_target]
    source_rank = layout.rank[plan.in_source]
    target_level = layout.level[plan.edge_target]
    levels = []
    for level in range(1, layout.depth + 1):
        first, end = int(layout.start[level]), int(layout.start[level + 1])
        edges = np.flatnonzero(target_level == level)
        edges = edges[np.lexsort((source_rank[edges], target_rank[edges]))]
        sources = np.unique(source_rank[edges])
        rows = target_rank[edges] - first
        indices = np.searchsorted(sources, source_rank[edges])
        indptr = np.searchsorted(rows, np.arange(end - first + 1))
        order = np.lexsort((rows, indices))
        levels.append(
            _Level(
                first, end, edges, sources, indptr, indices, rows,
                np.searchsorted(indices[order], np.arange(len(sources) + 1)), rows[order], order,
                layout.runs(plan, level),
            )
        )  # fmt: skip
    return layout, levels


class _Backend(Protocol):
    """The few operations the step takes, in one library; arrays are the library's own."""

    xp: Any

    def array(self, values: NDArray[Any], dtype: np.dtype[Any]) -> Any: ...  # a new array
    def index(self, values: IntArray) -> Any: ...
    def csr(self, values: Any, indptr: Any, indices: Any, shape: tuple[int, int]) -> Any: ...
    def product(self, matrix: Any, dense: Any) -> Any: ...
    def sampled(self, matrix: Any, rows: Any, entry_sources: Any, delta: Any, z: Any,
                sources: Any) -> Any: ...  # fmt: skip
    def to_numpy(self, values: Any) -> NDArray[Any]: ...


class _Scipy:
    def __init__(self) -> None:
        try:
            import scipy.sparse
        except ImportError as error:
            raise ImportError(
                "the scipy rival needs scipy; install it with pip install 'dagnet[compare]'"
            ) from error
        self.sparse = scipy.sparse
        self.xp: Any = np
        self.buffers: tuple[NDArray[Any], NDArray[Any]] | None = None

    def array(self, values: NDArray[Any], dtype: np.dtype[Any]) -> Any:
        return np.array(values, dtype=dtype)  # a copy, always: s and z are made from one array

    def index(self, values: IntArray) -> Any:
        return np.ascontiguousarray(values, dtype=np.int64)

    def csr(self, values: Any, indptr: Any, indices: Any, shape: tuple[int, int]) -> Any:
        # The matrix holds ``values`` itself (no copy): an update in place is seen by it.
        matrix = self.sparse.csr_array((values, indices, indptr), shape=shape, copy=False)
        assert len(values) == 0 or np.shares_memory(matrix.data, values)
        return matrix

    def product(self, matrix: Any, dense: Any) -> Any:
        return matrix @ dense

    def sampled(self, matrix: Any, rows: Any, entry_sources: Any, delta: Any, z: Any,
                sources: Any) -> Any:  # fmt: skip
        # Σ_n δ_i z_j of each entry (i, j): its rows gathered into buffers kept between calls.
        shape = (len(rows), delta.shape[1])
        if self.buffers is None or self.buffers[0].shape[0] < shape[0]:
            self.buffers = (np.empty(shape, delta.dtype), np.empty(shape, delta.dtype))
        a, b = self.buffers[0][: shape[0]], self.buffers[1][: shape[0]]
        np.take(delta, rows, axis=0, out=a)
        np.take(z, entry_sources, axis=0, out=b)
        return np.einsum("ij,ij->i", a, b)

    def to_numpy(self, values: Any) -> NDArray[Any]:
        return np.asarray(values)


class _Torch:
    def __init__(self) -> None:
        try:
            import torch
        except ImportError as error:
            raise ImportError(
                "the PyTorch rivals need torch; install it with pip install 'dagnet[compare]'"
            ) from error
        self.torch: Any = torch
        self.xp: Any = torch

    def array(self, values: NDArray[Any], dtype: np.dtype[Any]) -> Any:
        return self.torch.from_numpy(np.array(values, dtype=dtype))

    def index(self, values: IntArray) -> Any:
        return self.torch.from_numpy(np.array(values, dtype=np.int64))

    def csr(self, values: Any, indptr: Any, indices: Any, shape: tuple[int, int]) -> Any:
        with warnings.catch_warnings():  # "CSR support is in beta", once per process
            warnings.simplefilter("ignore", UserWarning)
            matrix = self.torch.sparse_csr_tensor(
                indptr, indices, values, size=shape, check_invariants=False
            )
        # The matrix holds ``values`` itself (no copy): an update in place is seen by it.
        assert len(values) == 0 or matrix.values().data_ptr() == values.data_ptr()
        return matrix

    def product(self, matrix: Any, dense: Any) -> Any:
        return self.torch.sparse.mm(matrix, dense)

    def sampled(self, matrix: Any, rows: Any, entry_sources: Any, delta: Any, z: Any,
                sources: Any) -> Any:  # fmt: skip
        # δ_L z[src]ᵀ at the CSR's entries only: PyTorch's sampled dense-dense product.
        return self.torch.sparse.sampled_addmm(matrix, delta, z[sources].T, beta=0.0).values()

    def to_numpy(self, values: Any) -> NDArray[Any]:
        return np.asarray(values.numpy())


def _sparse_step(
    backend: _Backend,
    name: str,
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike,
) -> Step:
    """The step of the module docstring in ``backend``."""
    dtype = float_dtype(dtype)
    xp, plan, heads = backend.xp, net.plan, net.heads
    layout, levels = _levels(net)
    n = x.shape[1]
    state = np.zeros((plan.n_units, n), dtype=dtype)
    state[layout.rank[: plan.n_inputs]] = x
    s, z = backend.array(state, dtype), backend.array(state, dtype)
    slope, delta, signal = (backend.array(np.zeros_like(state), dtype) for _ in range(3))
    bias = backend.array(net.bias[layout.order, None], dtype)
    outputs = backend.index(layout.rank[plan.output_positions])
    targets = backend.array(y, dtype)
    values, transposed, matrices, indices = [], [], [], []
    for level in levels:
        weight = backend.array(net.weight[level.edges], dtype)
        shape = (level.end - level.first, len(level.sources))
        flipped = backend.array(net.weight[level.edges[level.transposed_order]], dtype)
        index = [backend.index(a) for a in (level.sources, level.rows, level.indices,
                                             level.transposed_order,
                                             level.sources[level.indices])]  # fmt: skip
        values.append(weight)
        transposed.append(flipped)
        matrices.append((
            backend.csr(weight, backend.index(level.indptr), index[2], shape),
            backend.csr(flipped, backend.index(level.transposed_indptr),
                        backend.index(level.transposed_indices), shape[::-1]),
        ))  # fmt: skip
        indices.append(index)
    functions = [[(ACTIVATIONS[f], a, b) for f, a, b in level.runs] for level in levels]
    rate = learning_rate / n

    def forward() -> None:
        for level, (matrix, _), (sources, *_), runs in zip(
            levels, matrices, indices, functions, strict=True
        ):
            a, b = level.first, level.end
            s[a:b] = bias[a:b]
            if len(level.edges):
                s[a:b] += backend.product(matrix, z[sources])
            for f, c, d in runs:
                z[a + c : a + d] = f.array(s[a + c : a + d], xp)
                slope[a + c : a + d] = f.array_derivative(s[a + c : a + d], z[a + c : a + d], xp)

    def run() -> None:
        forward()
        signal[:] = 0.0
        delta[:] = 0.0
        delta[outputs] = head_delta(
            heads, s[outputs], z[outputs], slope[outputs], targets, xp
        )  # the loss's part of the outputs' δ, f' in it already
        gradients = []
        for k in range(len(levels) - 1, -1, -1):
            level, (matrix, flipped), (sources, rows, _, _, entry_sources) = (
                levels[k], matrices[k], indices[k]
            )  # fmt: skip
            a, b = level.first, level.end
            delta[a:b] += slope[a:b] * signal[a:b]
            if len(level.edges):
                signal[sources] += backend.product(flipped, delta[a:b])  # distinct rows
                gradients.append(
                    backend.sampled(matrix, rows, entry_sources, delta[a:b], z, sources)
                )
            else:
                gradients.append(None)
        for k, gradient in enumerate(reversed(gradients)):
            level = levels[k]
            if gradient is not None:
                values[k] -= rate * gradient  # in place: the CSR matrix holds these values
                transposed[k][:] = values[k][indices[k][3]]
            bias[level.first : level.end] -= rate * delta[level.first : level.end].sum(1)[:, None]

    def read() -> Parameters:
        weight = np.zeros(plan.n_edges, dtype=np.float64)
        for level, value in zip(levels, values, strict=True):
            weight[level.edges] = backend.to_numpy(value)
        unit_bias = np.zeros(plan.n_units, dtype=np.float64)
        unit_bias[layout.order] = backend.to_numpy(bias)[:, 0]
        unit_bias[: plan.n_inputs] = 0.0
        return weight, unit_bias

    return Step(name, run, read)


def scipy_csr_step(
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike = np.float64,
) -> Step:
    """One step level by level with scipy.sparse CSR products and a hand-written backward.

    Parameters
    ----------
    net : Network
        Its current weights and biases are copied (in ``dtype``).
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.
    dtype : float64 or float32

    Raises
    ------
    ImportError
        When scipy is not installed.

    Examples
    --------
    >>> import numpy as np, pytest, dagnet
    >>> _ = pytest.importorskip("scipy")  # the compare extra
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> step = scipy_csr_step(net, np.ones((2, 3)), np.zeros((1, 3)), 0.1)
    >>> step()
    >>> [a.shape for a in step.parameters()]
    [(9,), (5,)]
    """
    return _sparse_step(_Scipy(), "scipy-csr", net, x, y, learning_rate, dtype)


def torch_csr_step(
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike = np.float64,
) -> Step:
    """One step level by level with torch.sparse CSR products and a hand-written backward.

    Parameters
    ----------
    net : Network
        Its current weights and biases are copied (in ``dtype``).
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.
    dtype : float64 or float32

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    """
    return _sparse_step(_Torch(), "torch-csr", net, x, y, learning_rate, dtype)
