"""Direct calls of compiled kernels (dagnet.engine.calls): a compiled version is found once per
structure of arguments, and never handed arguments of another numba type."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

import dagnet
from dagnet.engine.calls import call, structure


class Pair(NamedTuple):
    a: np.ndarray
    b: np.ndarray


@njit
def _total(pair, scale):
    return (pair.a.sum() + pair.b.sum()) * scale


def test_arguments_of_other_types_get_their_own_compiled_version() -> None:
    """Every way numba's type can differ (dtype, dimensions, layout, writeability, scalar type)
    gives another structure, so another compiled version; each call computes right."""
    base = np.arange(6.0)
    read_only = base.copy()
    read_only.flags.writeable = False
    variants = [
        (Pair(base, base), 2.0),
        (Pair(base.astype(np.float32), base), 2.0),
        (Pair(base[::2], base), 2.0),  # not contiguous
        (Pair(read_only, base), 2.0),
        (Pair(base, base), np.float32(2.0)),
        (Pair(base, base), 2),
    ]
    structures = {structure(args) for args in variants}
    assert len(structures) == len(variants)
    for pair, scale in variants:
        entries: dict = {}  # a new workspace's: the process-wide versions are shared
        got = call(entries, ("total", structure((pair, scale))), _total, pair, scale)
        assert got == (pair.a.sum() + pair.b.sum()) * scale


def test_a_new_workspace_reuses_the_compiled_versions_and_computes_the_same() -> None:
    net = dagnet.Network(dagnet.load_graph("graphs/xor.json"), seed=0)
    x = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    first = net.evaluate(x, net.workspace(4))[1].copy()
    again = net.evaluate(x, net.workspace(4))[1]
    np.testing.assert_array_equal(first, again)
    as_float32 = dagnet.Network(dagnet.load_graph("graphs/xor.json"), seed=0, dtype="float32")
    z32 = as_float32.evaluate(x.astype(np.float32), as_float32.workspace(4))[1]
    assert z32.dtype == np.float32
    np.testing.assert_allclose(z32, first, rtol=1e-6, atol=1e-6)
