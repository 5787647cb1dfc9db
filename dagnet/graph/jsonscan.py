"""One compiled pass over the bytes of a JSON text, for what the decoders do not tell.

The standard decoder silently keeps the last of two equal keys, and asking it to report every
object to Python costs as much again as the parse itself on a large file. So this pass hashes
the keys of each object and says whether any object *may* repeat one; only then is the text
decoded a second, slower way that knows for certain (see :func:`dagnet.graph.jsontext.parse`). The
same pass measures how deeply brackets nest, and notes whether any string has an escape.

The text may be anything, not only valid JSON: the scan never reads past its end.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["FRAMES", "KIND", "Layout", "scan"]

QUOTE, BACKSLASH = ord('"'), ord("\\")
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
    # Room for every key at once (a colon ends each), so the compiled loop never reallocates.
    keys = np.empty(data.count(b":") + 1, dtype=np.uint64)
    repeat, depth, deep_byte, escapes = _scan(
        np.frombuffer(data, dtype=np.uint8), depth_limit, keys
    )
    # Bytes to characters: UTF-8 keeps brackets whole, so the prefix decodes cleanly.
    deep_at = -1 if deep_byte < 0 else len(data[:deep_byte].decode("utf-8", "surrogatepass"))
    return Layout(bool(repeat), int(depth), deep_at, bool(escapes))


# What each byte means to the scan; every other byte (digits, spaces, commas...) is skipped on
# one table lookup, which is what makes the pass fast.
FRAMES = 4096
"""Objects nested deeper than this are not checked for repeated keys (nor readable at all)."""
OTHER, STRING, MEMBER, CLOSE, OPEN_ARRAY, OPEN_OBJECT = range(6)
KIND = np.zeros(256, dtype=np.uint8)
KIND[ord('"')], KIND[ord(":")] = STRING, MEMBER
KIND[ord("[")], KIND[ord("{")], KIND[ord("]")], KIND[ord("}")] = (
    OPEN_ARRAY,
    OPEN_OBJECT,
    CLOSE,
    CLOSE,
)


@njit(cache=True)
def _scan(
    data: NDArray[np.uint8], depth_limit: int, keys: NDArray[np.uint64]
) -> tuple[bool, int, int, bool]:
    # ``keys`` holds the key hashes of the objects open at this point, innermost last; frame[d]
    # is where the keys of the d-th open object begin (-1 for an array, and for objects nested
    # beyond the frames kept: such a text is refused as too deep anyway).
    frame = np.full(FRAMES, -1, dtype=np.int64)
    n_keys = depth = deepest = 0
    deep_at = -1
    repeat = escapes = key_escaped = False
    string_start = string_end = 0
    i, n = 0, len(data)
    while i < n:
        kind = KIND[data[i]]
        if kind == STRING:
            string_start = i + 1
            key_escaped = False
            i += 1
            while i < n and data[i] != QUOTE:
                if data[i] == BACKSLASH:
                    key_escaped = escapes = True
                    i += 1
                i += 1
            string_end = min(i, n)
        elif kind == MEMBER and 0 < depth <= FRAMES and frame[depth - 1] >= 0:
            if key_escaped:
                repeat = True
            h = FNV_OFFSET  # FNV-1a of the key's bytes
            for k in range(string_start, string_end):
                h = (h ^ np.uint64(data[k])) * FNV_PRIME
            keys[n_keys] = h
            n_keys += 1
        elif kind >= OPEN_ARRAY and kind != CLOSE:
            if depth < FRAMES:
                frame[depth] = n_keys if kind == OPEN_OBJECT else -1
            depth += 1
            if depth > deepest:
                deepest = depth
                if depth > depth_limit and deep_at < 0:
                    deep_at = i
        elif kind == CLOSE and depth > 0:
            depth -= 1
            first = frame[depth] if depth < FRAMES else -1
            if first >= 0:
                if not repeat and n_keys - first > 1:
                    repeat = _has_repeat(keys, first, n_keys)
                n_keys = first
        i += 1
    return repeat, deepest, deep_at, escapes


@njit(cache=True)
def _has_repeat(hashes: NDArray[np.uint64], start: int, end: int) -> bool:
    """Whether two of ``hashes[start:end]`` are equal."""
    if end - start < 16:
        for a in range(start, end):
            for b in range(a + 1, end):
                if hashes[a] == hashes[b]:
                    return True
        return False
    ordered = np.sort(hashes[start:end])
    return bool(np.any(ordered[1:] == ordered[:-1]))
