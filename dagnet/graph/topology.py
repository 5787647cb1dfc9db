"""Order and reachability of a graph given as arrays of edge ends, in linear time (numba).

A file may hold millions of edges; a networkx graph of them takes longer to build than the
whole budget for loading one. These loops work on the integer arrays the checks already have,
and give the same answers networkx would: the order is exactly
``networkx.lexicographical_topological_sort`` keyed by unit number, which a test confirms.
networkx stays the tool for explaining what is wrong (the cycles), where speed does not matter.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = [
    "by_source",
    "edge_order",
    "lexicographic_order",
    "reachable",
    "stable_order",
]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def by_source(n_units: int, source: IntArray, target: IntArray) -> tuple[IntArray, IntArray]:
    """Compressed rows of the edges by source: the targets of unit u are
    ``neighbours[start[u] : start[u+1]]``, in file order."""
    order = stable_order(source, n_units)
    start = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n_units), out=start[1:])
    return start, target[order]


def edge_order(n_units: int, source: IntArray, target: IntArray) -> IntArray:
    """The permutation that sorts edges by target, then source (then file order), in O(edges).

    Examples
    --------
    >>> edge_order(3, np.array([1, 0, 0, 0]), np.array([2, 2, 1, 2])).tolist()
    [2, 1, 3, 0]
    """
    by_source_first = stable_order(source, n_units)  # radix sort: the minor key first
    return by_source_first[stable_order(target[by_source_first], n_units)]


@njit(cache=True)
def stable_order(keys: IntArray, n_keys: int) -> IntArray:
    """The stable permutation sorting ``keys`` (each in 0 .. n_keys-1): a counting sort."""
    next_slot = np.zeros(n_keys + 1, dtype=np.int64)
    for key in keys:
        next_slot[key + 1] += 1
    for k in range(n_keys):
        next_slot[k + 1] += next_slot[k]
    order = np.empty(len(keys), dtype=np.int64)
    for e in range(len(keys)):
        order[next_slot[keys[e]]] = e
        next_slot[keys[e]] += 1
    return order


def lexicographic_order(n_units: int, source: IntArray, target: IntArray) -> IntArray:
    """Units 0 .. n_units-1 in topological order, the lowest-numbered ready unit first.

    Returns fewer than ``n_units`` units when the edges have a cycle: the units on a cycle, and
    those after one, never become ready.

    Examples
    --------
    >>> lexicographic_order(4, np.array([2, 0, 1]), np.array([1, 3, 3])).tolist()
    [0, 2, 1, 3]
    """
    start, successors = by_source(n_units, source, target)
    in_degree = np.bincount(target, minlength=n_units)
    return _kahn(start, successors, in_degree)


def reachable(n_units: int, source: IntArray, target: IntArray, starts: IntArray) -> BoolArray:
    """Which units can be reached from ``starts`` along the edges (``starts`` included).

    Examples
    --------
    >>> reachable(4, np.array([0, 1]), np.array([1, 2]), np.array([1])).tolist()
    [False, True, True, False]
    """
    start, successors = by_source(n_units, source, target)
    return _search(start, successors, starts)


@njit(cache=True)
def _kahn(start: IntArray, successors: IntArray, in_degree: IntArray) -> IntArray:
    n_units = len(in_degree)
    remaining = in_degree.copy()
    heap = np.empty(n_units, dtype=np.int64)
    size = 0
    for u in range(n_units):
        if remaining[u] == 0:
            heap[size] = u  # ascending, so already a heap
            size += 1
    order = np.empty(n_units, dtype=np.int64)
    count = 0
    while size > 0:
        u = heap[0]
        size -= 1
        _sift_down(heap, size, heap[size])
        order[count] = u
        count += 1
        for p in range(start[u], start[u + 1]):
            v = successors[p]
            remaining[v] -= 1
            if remaining[v] == 0:
                _sift_up(heap, size, v)
                size += 1
    return order[:count]


@njit(cache=True)
def _sift_down(heap: IntArray, size: int, item: int) -> None:
    """Put ``item`` at the root of the heap ``heap[:size]`` and let it sink to its place."""
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= item:
            break
        heap[i] = heap[child]
        i = child
    if size > 0:
        heap[i] = item


@njit(cache=True)
def _sift_up(heap: IntArray, size: int, item: int) -> None:
    """Add ``item`` at position ``size`` of the heap and let it rise to its place."""
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent] <= item:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = item


@njit(cache=True)
def _search(start: IntArray, successors: IntArray, starts: IntArray) -> BoolArray:
    seen = np.zeros(len(start) - 1, dtype=np.bool_)
    stack = np.empty(len(start) - 1, dtype=np.int64)
    top = 0
    for u in starts:
        if not seen[u]:
            seen[u] = True
            stack[top] = u
            top += 1
    while top > 0:
        top -= 1
        u = stack[top]
        for p in range(start[u], start[u + 1]):
            v = successors[p]
            if not seen[v]:
                seen[v] = True
                stack[top] = v
                top += 1
    return seen
