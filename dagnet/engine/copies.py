"""Copies between parts of arrays, as loops, for the compiled kernels.

numba compiles an assignment of one array slice to another (``a[:n, lo:hi] = b[...]``) with a
check that the shapes broadcast, whose error message is formatted by code it compiles too: 4 s
of the first compile of a kernel with one such line, and about a sixth of
``dagnet train``'s first run (measured). These loops leave the shapes to the caller, who made
them."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["add_vector", "copy_block", "copy_vector", "one_row"]


@njit(cache=True)
def copy_block(target, t_row, t_column, source, s_row, s_column, rows, columns):
    """target[t_row : t_row+rows, t_column : t_column+columns] = the same-shaped part of
    ``source`` from (s_row, s_column), for two-dimensional arrays."""
    # Unsigned places, which are never negative, spare numba's test for a negative index on
    # every read and write: twice the speed of the slice assignment on rows of 256 numbers.
    t_row, t_column = np.uint64(t_row), np.uint64(t_column)
    s_row, s_column = np.uint64(s_row), np.uint64(s_column)
    for i in range(np.uint64(rows)):
        for n in range(np.uint64(columns)):
            target[t_row + i, t_column + n] = source[s_row + i, s_column + n]


@njit(cache=True)
def copy_vector(target, t_start, source, s_start, count):
    """target[t_start : t_start+count] = source[s_start : s_start+count]."""
    t_start, s_start = np.uint64(t_start), np.uint64(s_start)
    for k in range(np.uint64(count)):
        target[t_start + k] = source[s_start + k]


@njit(cache=True)
def add_vector(target, source):
    """target += source, for one-dimensional arrays of one length."""
    for k in range(np.uint64(source.shape[0])):
        target[k] += source[k]


def one_row(a: Any) -> Any:
    """A two-dimensional ``a`` as one row (a view) when it is C-contiguous, else a row of none:
    the rows of consecutive units, whole, are then one row to loop over."""
    return a.reshape(1, a.size) if a.flags.c_contiguous else a[:1, :0]


@overload(one_row)
def _compiled_one_row(a: Any) -> Any:
    # numba reshapes only arrays it has typed as C-contiguous; for any other layout (a caller's
    # Fortran-ordered s and z, say) the choice is made when compiling.
    # (numba wants each implementation's signature to be _compiled_one_row's, annotations too)
    if isinstance(a, types.Array) and a.layout == "C":

        def reshaped(a: Any) -> Any:
            return a.reshape(1, a.size)

        return reshaped

    def none(a: Any) -> Any:
        return a[:1, :0]

    return none
