"""A compiled reader for the one large part of a graph file: its ``edges`` array.

A file of a million edges is nearly all edges, and decoding them into a million dicts, then
checking each against :class:`~dagnet.graph.model.Edge`, costs most of the time loading takes.
When the array is written plainly, this pass reads it straight from the bytes into columns:
every edge an object with only the keys ``source``, ``target``, ``weight`` and ``trainable``,
none twice, the ends unit ids without escapes, the weight a JSON number, the flag ``true`` or
``false``. Each end is numbered among the distinct ids the edges name, which is all the checks
need of it. Anything else (an odd key, a null, an escape, broken JSON) and the scan declines:
the file is then read the general way, which words the problems. So the scan only ever takes
what that way takes, and gives the same columns (a test holds the two together).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["PlainEdges", "scan_edges"]

IntArray = NDArray[np.int64]


class PlainEdges(NamedTuple):
    """What the scan read: the columns of the edges, and where the array stands in the bytes."""

    start: int
    """The byte offset of the array's ``[``."""
    end: int
    """One past its ``]``."""
    ids: tuple[str, ...]
    """The distinct unit ids the edges name, in order of first appearance."""
    source_id: NDArray[np.int32]
    target_id: NDArray[np.int32]
    """Each edge's ends, as indices into ``ids``."""
    weights: list[float | None] | None
    """Each edge's weight, None where it has none; None when no edge has one."""
    trainable: list[bool] | None
    """Each edge's flag (true where it has none); None when no edge has one."""


def scan_edges(data: bytes | memoryview) -> PlainEdges | None:
    """Read the top-level ``edges`` array of the JSON text ``data``, or None when it is not
    written plainly (see the module docstring) or there is none.

    The text around the array is not checked: whoever takes the columns parses the rest.

    Examples
    --------
    >>> edges = scan_edges(b'{"edges": [{"source": "x", "target": "y", "weight": 2}]}')
    >>> edges.ids, edges.source_id.tolist(), edges.target_id.tolist(), edges.weights
    (('x', 'y'), [0], [1], [2.0])
    >>> scan_edges(b'{"edges": [{"source": "x", "target": "y", "weight": null}]}') is None
    True
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    start = _find_edges(buffer)
    if start < 0:
        return None
    found = _read_edges(buffer, start)
    end, source_id, target_id, weight_span, flag, names = found
    if end < 0:
        return None
    weights, finite = _weights(buffer, weight_span)
    if not finite:
        return None  # a number beyond float range: the general way says so
    trainable = None if not np.any(flag >= 0) else (flag != 0).tolist()
    ids = tuple(names[:-1].tobytes().decode("ascii").split("\n")) if len(names) else ()
    return PlainEdges(start, end, ids, source_id, target_id, weights, trainable)


def _weights(buffer: NDArray[np.uint8], span: IntArray) -> tuple[list[float | None] | None, bool]:
    """The weights as Python floats (as float() reads them, so as the JSON decoder does), None
    where an edge has none, or None when none has one; and whether all are finite."""
    has = span[:, 0] >= 0
    if not np.any(has):
        return None, True
    values: list[float | None] = list(map(float, _joined(buffer, span[has]).split()))
    if not all(map(math.isfinite, values)):  # type: ignore[arg-type]  # (all are floats)
        return None, False
    if np.all(has):
        return values, True
    column = np.full(len(span), None, dtype=object)
    # An object array of the floats themselves: assigning floats would make numpy floats.
    column[has] = np.array(values, dtype=object)
    return column.tolist(), True


def _joined(buffer: NDArray[np.uint8], span: IntArray) -> bytes:
    """The bytes at each (start, end) of ``span``, one per line."""
    return _gather(buffer, span).tobytes()  # type: ignore[no-any-return]  # (numba: untyped)


@njit(cache=True)
def _gather(buffer, span):  # type: ignore[no-untyped-def]
    size = 0
    for k in range(len(span)):
        size += span[k, 1] - span[k, 0] + 1
    out = np.empty(max(size - 1, 0), dtype=np.uint8)
    p = 0
    for k in range(len(span)):
        if k > 0:
            out[p] = NEWLINE
            p += 1
        for i in range(span[k, 0], span[k, 1]):
            out[p] = buffer[i]
            p += 1
    return out


# Byte classes: JSON whitespace, and the characters of a unit id (UNIT_ID_PATTERN in
# dagnet.graph.model: a letter or '_' first, then letters, digits, '_', '.' and '-').
NEWLINE = ord("\n")
SPACE = np.zeros(256, dtype=np.bool_)
SPACE[[ord(" "), ord("\t"), ord("\n"), ord("\r")]] = True
ID_HEAD = np.zeros(256, dtype=np.bool_)
ID_HEAD[[ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"]] = True
ID_TAIL = ID_HEAD.copy()
ID_TAIL[[ord(c) for c in "0123456789.-"]] = True
DIGIT = np.zeros(256, dtype=np.bool_)
DIGIT[ord("0") : ord("9") + 1] = True
KEYS = (b"source", b"target", b"weight", b"trainable")
KEY_BYTES = np.zeros((len(KEYS), 9), dtype=np.uint8)
KEY_LENGTH = np.array([len(key) for key in KEYS], dtype=np.int64)
for _index, _name in enumerate(KEYS):
    KEY_BYTES[_index, : len(_name)] = np.frombuffer(_name, dtype=np.uint8)
SOURCE, TARGET, WEIGHT, TRAINABLE = range(len(KEYS))
FNV_OFFSET, FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)
SHORTEST_EDGE = len(b'{"source":"a","target":"b"},')
"""The fewest bytes an edge takes, with its comma: so the array holds at most its length over
this many edges, and the columns are sized once."""


@njit(cache=True)
def _byte(buffer, i):  # type: ignore[no-untyped-def]
    """The byte at ``i``, or 0 past the end (0 is no token's byte, so every test fails on it)."""
    return buffer[i] if i < len(buffer) else 0


@njit(cache=True)
def _skip_space(buffer, i):  # type: ignore[no-untyped-def]
    while i < len(buffer) and SPACE[buffer[i]]:
        i += 1
    return i


@njit(cache=True)
def _find_edges(buffer):  # type: ignore[no-untyped-def]
    """The offset of the ``[`` that opens the value of the top-level key ``edges``, or -1.

    Strings and nesting are followed as a JSON reader would, but the text is not checked: if
    it is not JSON, the rest of it fails to parse and the scan's columns are not used.
    """
    i = _skip_space(buffer, 0)
    if _byte(buffer, i) != ord("{"):
        return -1
    depth = 0
    key_next = False  # a key may start here: just after the top-level '{' or ','
    n = len(buffer)
    while i < n:
        c = buffer[i]
        if c == ord('"'):
            start = i + 1
            i += 1
            while i < n and buffer[i] != ord('"'):
                i += 2 if buffer[i] == ord("\\") else 1
            if key_next and i < n and i - start == 5 and _is_edges(buffer, start):
                after = _skip_space(buffer, i + 1)
                if _byte(buffer, after) == ord(":"):
                    value = _skip_space(buffer, after + 1)
                    if _byte(buffer, value) == ord("["):
                        return value
            key_next = False
        elif c == ord("{") or c == ord("["):
            depth += 1
            key_next = depth == 1
        elif c == ord("}") or c == ord("]"):
            depth -= 1
            if depth <= 0:
                return -1
        elif c == ord(","):
            key_next = depth == 1
        elif not SPACE[c]:
            key_next = False
        i += 1
    return -1


@njit(cache=True)
def _is_edges(buffer, i):  # type: ignore[no-untyped-def]
    return (
        buffer[i] == ord("e") and buffer[i + 1] == ord("d") and buffer[i + 2] == ord("g")
        and buffer[i + 3] == ord("e") and buffer[i + 4] == ord("s")
    )  # fmt: skip


@njit(cache=True)
def _key(buffer, i):  # type: ignore[no-untyped-def]
    """Which of KEYS the string at ``i`` (its opening quote) is, and the offset past it; -1 for
    any other key."""
    for k in range(len(KEY_LENGTH)):
        length = KEY_LENGTH[k]
        if i + length + 1 < len(buffer) and buffer[i + length + 1] == ord('"'):
            same = True
            for j in range(length):
                if buffer[i + 1 + j] != KEY_BYTES[k, j]:
                    same = False
                    break
            if same:
                return k, i + length + 2
    return -1, i


@njit(cache=True)
def _number_end(buffer, i):  # type: ignore[no-untyped-def]
    """One past the JSON number at ``i``, or -1 when there is none (NaN and Infinity are not)."""
    if _byte(buffer, i) == ord("-"):
        i += 1
    if _byte(buffer, i) == ord("0"):
        i += 1
    elif DIGIT[_byte(buffer, i)]:
        while DIGIT[_byte(buffer, i)]:
            i += 1
    else:
        return -1
    if _byte(buffer, i) == ord("."):
        i += 1
        if not DIGIT[_byte(buffer, i)]:
            return -1
        while DIGIT[_byte(buffer, i)]:
            i += 1
    if _byte(buffer, i) == ord("e") or _byte(buffer, i) == ord("E"):
        i += 1
        if _byte(buffer, i) == ord("+") or _byte(buffer, i) == ord("-"):
            i += 1
        if not DIGIT[_byte(buffer, i)]:
            return -1
        while DIGIT[_byte(buffer, i)]:
            i += 1
    return i


@njit(cache=True)
def _read_edges(buffer, start):  # type: ignore[no-untyped-def]
    """Read the edges array opening at ``start``: (one past its end or -1 when it is not plain,
    source ids, target ids, weight spans, flags, the distinct ids' bytes, one per line).

    A weight span is the (start, end) of its number, (-1, -1) where there is none; the integer
    -0 is given as the span of its 0, since the decoder reads it as the integer 0, whose float
    is 0.0, not -0.0. A flag is 1, 0, or -1 where there is none. Ids are numbered in order of
    first appearance, through a hash table of their bytes (FNV-1a).
    """
    capacity = (len(buffer) - start) // SHORTEST_EDGE + 1
    source_id = np.empty(capacity, dtype=np.int32)
    target_id = np.empty(capacity, dtype=np.int32)
    weight_span = np.full((capacity, 2), -1, dtype=np.int64)
    flag = np.full(capacity, -1, dtype=np.int8)
    # The distinct ids: their bytes, each with a newline, in ``names``, and where each ends.
    names = np.empty(1024, dtype=np.uint8)
    name_end = np.zeros(65, dtype=np.int64)  # name_end[k + 1]: one past id k's newline
    table = np.zeros((128, 4), dtype=np.uint64)  # see _intern; 0 where free
    n_ids = 0
    n_edges = 0
    none = (
        np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32),
        np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.int8),
        np.empty(0, dtype=np.uint8),
    )  # fmt: skip
    fail = (-1, *none)

    i = _skip_space(buffer, start + 1)
    if _byte(buffer, i) == ord("]"):
        return (i + 1, *none)
    while True:
        if _byte(buffer, i) != ord("{"):
            return fail
        i = _skip_space(buffer, i + 1)
        seen = 0
        while True:
            if _byte(buffer, i) != ord('"'):
                return fail
            key, i = _key(buffer, i)
            if key < 0 or seen & (1 << key):
                return fail
            seen |= 1 << key
            i = _skip_space(buffer, i)
            if _byte(buffer, i) != ord(":"):
                return fail
            i = _skip_space(buffer, i + 1)
            if key <= TARGET:  # SOURCE or TARGET
                # A unit id: its bytes hashed as they are checked.
                if _byte(buffer, i) != ord('"') or not ID_HEAD[_byte(buffer, i + 1)]:
                    return fail
                first = i + 1
                h = FNV_OFFSET
                word = np.uint64(0)  # the first 8 bytes, to compare ids without a loop
                i += 1
                while ID_TAIL[_byte(buffer, i)]:
                    h = (h ^ np.uint64(buffer[i])) * FNV_PRIME
                    if i - first < 8:
                        word |= np.uint64(buffer[i]) << np.uint64(8 * (i - first))
                    i += 1
                if _byte(buffer, i) != ord('"'):
                    return fail
                number, table, names, name_end, n_ids = _intern(
                    buffer, first, i, h, word, table, names, name_end, n_ids
                )
                if key == SOURCE:
                    source_id[n_edges] = number
                else:
                    target_id[n_edges] = number
                i += 1
            elif key == WEIGHT:
                end = _number_end(buffer, i)
                if end < 0:
                    return fail
                integer = True
                for j in range(i, end):
                    if buffer[j] == ord(".") or buffer[j] == ord("e") or buffer[j] == ord("E"):
                        integer = False
                negative_zero = (
                    integer and end - i == 2 and buffer[i] == ord("-") and buffer[i + 1] == ord("0")
                )
                weight_span[n_edges, 0] = i + 1 if negative_zero else i
                weight_span[n_edges, 1] = end
                i = end
            else:
                if _is_word(buffer, i, _TRUE):
                    flag[n_edges] = 1
                    i += len(_TRUE)
                elif _is_word(buffer, i, _FALSE):
                    flag[n_edges] = 0
                    i += len(_FALSE)
                else:
                    return fail
            i = _skip_space(buffer, i)
            if _byte(buffer, i) == ord(","):
                i = _skip_space(buffer, i + 1)
            elif _byte(buffer, i) == ord("}"):
                break
            else:
                return fail
        if seen & 3 != 3:  # an end is missing
            return fail
        n_edges += 1
        i = _skip_space(buffer, i + 1)
        if _byte(buffer, i) == ord(","):
            i = _skip_space(buffer, i + 1)
        elif _byte(buffer, i) == ord("]"):
            break
        else:
            return fail
    return (
        i + 1, source_id[:n_edges].copy(), target_id[:n_edges].copy(),
        weight_span[:n_edges].copy(), flag[:n_edges].copy(), names[: name_end[n_ids]].copy(),
    )  # fmt: skip


_TRUE = np.frombuffer(b"true", np.uint8)
_FALSE = np.frombuffer(b"false", np.uint8)


@njit(cache=True)
def _is_word(buffer, i, word):  # type: ignore[no-untyped-def]
    """Whether the bytes from i on spell ``word``."""
    for k in range(word.shape[0]):  # noqa: SIM110 (numba compiles no generator into all())
        if _byte(buffer, i + k) != word[k]:
            return False
    return True


# Inlined: a call that passes arrays counts references to each, which costs more than the
# lookup itself, two million times for a million edges.
@njit(cache=True, inline="always")
def _intern(buffer, first, end, h, word, table, names, name_end, n_ids):  # type: ignore[no-untyped-def]
    """The number of the id at ``buffer[first:end]`` (hash ``h``, first 8 bytes ``word``),
    numbering it if it is new. Returns the number and the tables, grown where they had to be.

    A table slot holds (hash, number + 1, word, length): most ids are 8 bytes or fewer, and
    are told apart by these alone; the bytes of longer ones are compared with their copy in
    ``names``, which stays in cache, unlike the place in the text where they first appeared.
    """
    mask = len(table) - 1
    slot = _slot(h, mask)
    length = np.uint64(end - first)
    while table[slot, 1] != 0:
        if table[slot, 0] == h and table[slot, 2] == word and table[slot, 3] == length:
            number = np.int64(table[slot, 1]) - 1
            if length <= 8 or _same(
                names, name_end[number], name_end[number + 1] - 1, buffer, first, end
            ):
                return number, table, names, name_end, n_ids
        slot = (slot + 1) & mask
    number = n_ids
    at = name_end[number]
    while at + end - first + 1 > len(names):
        names = _grown(names)
    for k in range(end - first):  # (a loop: a slice assignment compiles a shape check, seconds)
        names[at + k] = buffer[first + k]
    names[at + end - first] = NEWLINE
    if number + 2 > len(name_end):
        name_end = _grown(name_end)
    name_end[number + 1] = at + end - first + 1
    table[slot, 0], table[slot, 1], table[slot, 2], table[slot, 3] = h, number + 1, word, length
    if 2 * (number + 1) > len(table):  # keep the table at most half full
        table = _rehashed(table, 2 * len(table))
    return number, table, names, name_end, n_ids + 1


@njit(cache=True)
def _slot(h, mask):  # type: ignore[no-untyped-def]
    """Where a hash's probe starts. FNV-1a's low bits mix poorly (a product's low bits depend
    on its factors' low bits alone), so its high half is folded in."""
    return np.int64((h ^ (h >> np.uint64(32))) & np.uint64(mask))


@njit(cache=True)
def _same(a, a_first, a_end, b, b_first, b_end):  # type: ignore[no-untyped-def]
    """Whether ``a[a_first:a_end]`` and ``b[b_first:b_end]`` hold the same bytes."""
    if a_end - a_first != b_end - b_first:
        return False
    for j in range(a_end - a_first):  # noqa: SIM110  (numba compiles no generator)
        if a[a_first + j] != b[b_first + j]:
            return False
    return True


@njit(cache=True)
def _grown(array):  # type: ignore[no-untyped-def]
    bigger = np.zeros(2 * len(array), dtype=array.dtype)
    for k in range(len(array)):
        bigger[k] = array[k]
    return bigger


@njit(cache=True)
def _rehashed(table, size):  # type: ignore[no-untyped-def]
    bigger = np.zeros((size, table.shape[1]), dtype=np.uint64)
    mask = size - 1
    for old in range(len(table)):
        if table[old, 1] != 0:
            slot = _slot(table[old, 0], mask)
            while bigger[slot, 1] != 0:
                slot = (slot + 1) & mask
            bigger[slot] = table[old]
    return bigger
