"""The environment dagnet runs in, checked before numba is imported.

numba keeps compiled kernels next to the sources (``__pycache__/*.nbi``, ``*.nbc``) and
reuses one while the file that defines it is unchanged, even when a function it calls, from
another module, has changed: then the kernel computes with the old code. (An install replaces
every file; an editable checkout changes one at a time.) :func:`forget_stale_kernels` runs
too: when any of dagnet's sources differ from those the cache was made from, it deletes
numba's cached kernels, which are compiled again as they are used.

numba reads ``NUMBA_NUM_THREADS`` as it is imported and fails with a traceback on 0 or a
negative number (and ignores text). :func:`set_aside_bad_threads` runs as this module is
imported, first thing in ``import dagnet``: a value that is not a whole number of at least 1
is taken out of the environment, so that numba imports with its default, and the problem is
kept in :data:`THREADS_PROBLEM` for the command line to refuse as a usage error.

:func:`shorten_spinning` sets ``GOMP_SPINCOUNT`` to :data:`SPINS` unless the user has chosen
how OpenMP threads wait (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``). numba's parallel loops run
on libgomp here, whose idle threads spin for 300,000 rounds after every parallel loop before
they sleep: on a machine where another process keeps a core busy, that spinning takes the CPU
from the very thread that still has work (measured with a busy neighbour, two threads: deep
graph 5.3 ms a step against 0.72 ms on one thread) and slows the one-thread steps that follow
a probe of two threads (random DAG 1.29x, MLP 1.53x the one-thread time under "auto"). With
20,000 rounds the threads still wait awake through the gaps inside a step, and sleep soon after
it: "auto" came within 1.03x of one thread on all three shapes in the same conditions.
``OMP_WAIT_POLICY=passive`` (no spinning) did as well under load, but makes every parallel loop
wake a sleeping thread. This module imports nothing else from dagnet, nor numba.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import MutableMapping
from pathlib import Path

__all__ = [
    "SPINS",
    "THREADS_PROBLEM",
    "forget_stale_kernels",
    "numba_threads_problem",
    "set_aside_bad_threads",
    "shorten_spinning",
    "sources_stamp",
]

SPINS = "20000"
"""How long libgomp's idle threads spin before they sleep, unless the user says otherwise."""

THREADS_PROBLEM: str | None = None
"""What was wrong with ``NUMBA_NUM_THREADS`` at import, if anything (it was then ignored)."""


def numba_threads_problem(value: str | None) -> str | None:
    """A one-sentence problem with ``value`` as ``NUMBA_NUM_THREADS``, or None when it is fine.

    >>> print(numba_threads_problem("0"))  # doctest: +NORMALIZE_WHITESPACE
    NUMBA_NUM_THREADS is '0'; it must be a whole number of threads, at least 1
    (unset it to use every core)
    >>> numba_threads_problem("2") is None
    True
    """
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if text.isdecimal() and text.isascii() and int(text) >= 1:
        return None
    shown = ascii(value)[1:-1]
    return (
        f"NUMBA_NUM_THREADS is '{shown}'; it must be a whole number of threads, at least 1 "
        "(unset it to use every core)"
    )


def set_aside_bad_threads(environ: MutableMapping[str, str] = os.environ) -> None:
    """Take a bad ``NUMBA_NUM_THREADS`` out of ``environ`` and remember why (see the module)."""
    global THREADS_PROBLEM
    THREADS_PROBLEM = numba_threads_problem(environ.get("NUMBA_NUM_THREADS"))
    if THREADS_PROBLEM is not None:
        del environ["NUMBA_NUM_THREADS"]


def sources_stamp(package: Path) -> str:
    """A digest of the path, size and modification time of every ``.py`` file in ``package``."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        status = path.stat()
        digest.update(
            f"{path.relative_to(package)} {status.st_size} {status.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()


def forget_stale_kernels(package: Path = Path(__file__).parent) -> None:
    """Delete numba's cached kernels in ``package`` if its sources changed since they were
    cached (see the module). A package that cannot be written (an install owned by another
    user) is left as it is."""
    try:
        stamp, record = sources_stamp(package), package / "__pycache__" / "numba-sources"
        if record.is_file() and record.read_text(encoding="ascii") == stamp:
            return
        for cached in [*package.rglob("*.nbi"), *package.rglob("*.nbc")]:
            cached.unlink(missing_ok=True)
        record.parent.mkdir(exist_ok=True)
        record.write_text(stamp, encoding="ascii")
    except OSError:
        pass


def shorten_spinning(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set ``GOMP_SPINCOUNT`` to :data:`SPINS` in ``environ`` unless the user has chosen how
    OpenMP threads wait (see the module).

    >>> environ = {}
    >>> shorten_spinning(environ); environ
    {'GOMP_SPINCOUNT': '20000'}
    >>> environ = {"OMP_WAIT_POLICY": "active"}
    >>> shorten_spinning(environ); environ
    {'OMP_WAIT_POLICY': 'active'}
    """
    if "OMP_WAIT_POLICY" not in environ and "GOMP_SPINCOUNT" not in environ:
        environ["GOMP_SPINCOUNT"] = SPINS


set_aside_bad_threads()
shorten_spinning()
forget_stale_kernels()
