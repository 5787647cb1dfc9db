"""One compiled pass over the bytes of a JSON text, for what the decoders do not tell.

The standard decoder silently keeps the last of two equal keys, and asking it to report every
object to Python costs as much again as the parse itself on a large file. So this pass hashes
the keys of each object and says whether any object *may* repeat one; only then is the text
decoded a second, slower way that knows for certain (see :func:`dagnet.jsontext.parse`). The
same pass measures how deeply brackets nest, and notes whether any string has an escape.

The text may be anything, not only valid JSON: the scan never reads past its end.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

QUOTE, BACKSLASH, COLON = ord('"'), ord("\\"), ord(":")
OPEN_OBJECT, CLOSE_OBJECT = ord("{"), ord("}")
FNV_OFFSET, FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


class Layout(NamedTuple):
    """What one scan of a text found."""

    may_repeat_a_key: bool
    """Whether some object may have two equal keys. False is certain; True means two keys hash
    alike or a key has an escape ("\\u0061" and "a" are one key), and needs a closer look."""
    depth: int
    """The deepest nesting of objects and arrays."""
    too_deep_at: int
    """The character offset of the first bracket deeper than the limit asked for, or -1."""
    has_escapes: bool
    """Whether any string holds a backslash escape."""


def scan(text: str, depth_limit: int) -> Layout:
    """Scan ``text`` once.

    Examples
    --------
    >>> scan('{"a": 1, "b": {"a": [2]}}', depth_limit=2)
    Layout(may_repeat_a_key=False, depth=3, too_deep_at=20, has_escapes=False)
    >>> scan('{"a": 1, "a": 2}', depth_limit=100).may_repeat_a_key
    True
    """
    data = text.encode("utf-8", "surrogatepass")
    repeat, depth, deep_byte, escapes = _scan(np.frombuffer(data, dtype=np.uint8), depth_limit)
    # Bytes to characters: UTF-8 keeps brackets whole, so the prefix decodes cleanly.
    deep_at = -1 if deep_byte < 0 else len(data[:deep_byte].decode("utf-8", "surrogatepass"))
    return Layout(bool(repeat), int(depth), deep_at, bool(escapes))


@njit(cache=True)
def _scan(data: NDArray[np.uint8], depth_limit: int) -> tuple[bool, int, int, bool]:
    # Keys of the objects open at this point, innermost last; frame[d] is where the keys of the
    # d-th open object begin in ``keys`` (-1 for an array).
    keys = np.empty(64, dtype=np.uint64)
    frame = np.empty(64, dtype=np.int64)
    n_keys = depth = deepest = 0
    deep_at = -1
    repeat = escapes = key_escaped = False
    string_start = string_end = 0
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == QUOTE:
            string_start = i + 1
            key_escaped = False
            i += 1
            while i < n and data[i] != QUOTE:
                if data[i] == BACKSLASH:
                    key_escaped = escapes = True
                    i += 1
                i += 1
            string_end = min(i, n)
        elif c == COLON and depth > 0 and frame[depth - 1] >= 0:
            if key_escaped:
                repeat = True
            if n_keys == len(keys):
                keys = _grown(keys)
            keys[n_keys] = _hash(data, string_start, string_end)
            n_keys += 1
        elif c | 0x20 == OPEN_OBJECT:  # '{' or '[' (0x20 is the bit between them)
            if depth == len(frame):
                frame = _grown(frame)
            frame[depth] = n_keys if c == OPEN_OBJECT else -1
            depth += 1
            if depth > deepest:
                deepest = depth
                if depth > depth_limit and deep_at < 0:
                    deep_at = i
        elif c | 0x20 == CLOSE_OBJECT and depth > 0:  # '}' or ']'
            depth -= 1
            if frame[depth] >= 0:
                if not repeat and _has_repeat(keys[frame[depth] : n_keys]):
                    repeat = True
                n_keys = frame[depth]
        i += 1
    return repeat, deepest, deep_at, escapes


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
