"""Calling compiled kernels without numba's dispatch on argument types.

On every call, numba's dispatcher works out the numba type of each argument to pick the
compiled version; for the kernels' NamedTuples of arrays (a Plan's wiring holds fourteen) that
takes longer than the whole pass over a network of a few units (7 µs of a 9 µs forward pass
on graphs/xor.json). A workspace's arrays, and the network's parameters, never change type,
so the compiled version is looked up once per workspace and kernel, and called directly after
that (its entry point still unpacks the arguments, in about a microsecond). Arguments whose
type may change between calls (the caller's inputs and targets) are part of the key, by
:func:`array_key`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["array_key", "call", "structure"]

Entries = dict[tuple[object, ...], Any]
"""Compiled versions by key (and what else a workspace keeps beside them, see ``compiled.FITS``)."""


def array_key(array: np.ndarray) -> tuple[int, int, int]:
    """What numba's type of ``array`` depends on: its dtype, its dimensions, and its flags
    (layout, alignment, writeability: all in ``flags.num``, with some that do not matter)."""
    return (array.dtype.num, array.ndim, array.flags.num)


def call(entries: Entries, key: tuple[object, ...], kernel: Any, *args: Any) -> Any:
    """``kernel(*args)``, through the compiled version kept in ``entries`` under ``key``.

    ``key`` must fix the numba type of every argument: calling a compiled version with
    arguments of other types would read their memory as if they were of its own.
    """
    entry = entries.get(key)
    if entry is None:
        entry = entries[key] = _entry_point(kernel, args)
    return entry(*args)


def _entry_point(kernel: Any, args: tuple[Any, ...]) -> Callable[..., Any]:
    """The compiled version of ``kernel`` for ``args`` (compiled, or loaded from the cache, if
    it was not yet), or ``kernel`` itself where there is none to find (NUMBA_DISABLE_JIT).

    Found once per process for each structure of arguments (:func:`structure`): numba's own
    typing of a Plan's and a workspace's NamedTuples costs 0.3–0.6 ms, paid otherwise by every
    new workspace, which is a new population's whole forward pass."""
    shape = (kernel, tuple(structure(arg) for arg in args))
    entry = _ENTRY_POINTS.get(shape)
    if entry is None:
        try:
            signature = tuple(kernel.typeof_pyval(arg) for arg in args)
            entry = kernel.compile(signature)
        except AttributeError:  # a plain Python function: nothing compiled to skip to
            entry = kernel
        _ENTRY_POINTS[shape] = entry
    return entry  # type: ignore[no-any-return]


_ENTRY_POINTS: dict[tuple[object, ...], Any] = {}
"""Compiled versions by kernel and :func:`structure` of their arguments."""


def structure(value: Any) -> object:
    """What numba's type of ``value`` depends on, cheaply: an array's :func:`array_key`, a
    tuple's class and the structures of its items, and any other value's class (a float is a
    float64, an int an int64, a numpy scalar its dtype)."""
    if isinstance(value, np.ndarray):
        return array_key(value)
    if isinstance(value, tuple):
        return (type(value), tuple(structure(item) for item in value))
    return type(value)
