"""The environment dagnet runs in, checked before numba is imported.

numba reads ``NUMBA_NUM_THREADS`` as it is imported and fails with a traceback on 0 or a
negative number (and ignores text). :func:`set_aside_bad_threads` runs as this module is
imported, first thing in ``import dagnet``: a value that is not a whole number of at least 1
is taken out of the environment, so that numba imports with its default, and the problem is
kept in :data:`THREADS_PROBLEM` for the command line to refuse as a usage error. This module
imports nothing else from dagnet, nor numba.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["THREADS_PROBLEM", "numba_threads_problem", "set_aside_bad_threads"]

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


set_aside_bad_threads()
