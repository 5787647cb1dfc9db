"""A compiled pass over the bytes of a JSON text that the C decoder has already accepted.

The standard decoder silently keeps the last of two equal keys. Asking it to report every object
to Python costs as much again as the parse itself on a large file, so instead this pass hashes
the keys of each object and says whether any object *may* repeat one; only then is the text
decoded a second, slower way that knows for certain (see :func:`dagnet.jsontext.parse`).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

QUOTE, BACKSLASH, COLON = ord('"'), ord("\\"), ord(":")
OPEN_OBJECT, CLOSE_OBJECT = ord("{"), ord("}")
FNV_OFFSET, FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


def may_repeat_a_key(text: str) -> bool:
    """Whether some object in ``text`` (valid JSON) may have two equal keys.

    False is certain; True means two keys hash alike or a key uses escapes, and the caller must
    look closer.

    Examples
    --------
    >>> may_repeat_a_key('{"a": 1, "b": {"a": 2}}'), may_repeat_a_key('{"a": 1, "a": 2}')
    (False, True)
    """
    return bool(_scan(np.frombuffer(text.encode("utf-8"), dtype=np.uint8)))


@njit(cache=True)
def _scan(data: NDArray[np.uint8]) -> bool:
    # Keys of the objects open at this point, innermost last; frame[d] is where the keys of the
    # d-th open object begin in ``keys``.
    keys = np.empty(64, dtype=np.uint64)
    frame = np.empty(64, dtype=np.int64)
    n_keys = 0
    depth = 0
    string_start = string_end = 0
    escaped = False
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == QUOTE:
            string_start = i + 1
            escaped = False
            i += 1
            while data[i] != QUOTE:
                if data[i] == BACKSLASH:
                    escaped = True
                    i += 1
                i += 1
            string_end = i
        elif c == COLON:
            if escaped:  # "\u0061" and "a" are one key: leave escapes to the exact decoder
                return True
            if n_keys == len(keys):
                keys = _grown(keys)
            keys[n_keys] = _hash(data, string_start, string_end)
            n_keys += 1
        elif c == OPEN_OBJECT:
            if depth == len(frame):
                frame = _grown(frame)
            frame[depth] = n_keys
            depth += 1
        elif c == CLOSE_OBJECT:
            depth -= 1
            if _has_repeat(keys[frame[depth] : n_keys]):
                return True
            n_keys = frame[depth]
        i += 1
    return False


@njit(cache=True)
def _hash(data: NDArray[np.uint8], start: int, end: int) -> np.uint64:
    h = FNV_OFFSET
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * FNV_PRIME
    return h


@njit(cache=True)
def _has_repeat(hashes: NDArray[np.uint64]) -> bool:
    n = len(hashes)
    if n < 16:
        for a in range(n):
            for b in range(a + 1, n):
                if hashes[a] == hashes[b]:
                    return True
        return False
    ordered = np.sort(hashes)
    return bool(np.any(ordered[1:] == ordered[:-1]))


@njit(cache=True)
def _grown(array: NDArray) -> NDArray:
    bigger = np.empty(2 * len(array), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger
