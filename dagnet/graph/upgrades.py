"""Older versions of the file format, brought up to the current one before validation.

Each step is a pure dict → dict function from one ``format_version`` to the next, so an old file
is read by the same model and rules as a new one, and a newer file than this dagnet knows is
refused with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dagnet.errors import Problem
from dagnet.graph.messages import describe
from dagnet.graph.model import FORMAT_VERSION

__all__ = ["OLDEST_FORMAT_VERSION", "UPGRADES", "upgrade"]


def _from_1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 only added keys (``training.losses``, ``trainable``, optimizer settings,
    validation and early stopping, ``trained.best_epoch``), so a version 1 file means the same
    as version 2; its final loss, a squared error, was never negative, as a version 2 one may
    not be either unless its loss says so."""
    return {**document, "format_version": 2}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_1}
"""``UPGRADES[v]`` turns a version-``v`` document into a version ``v + 1`` one (dict → dict)."""

OLDEST_FORMAT_VERSION = FORMAT_VERSION - len(UPGRADES)


def upgrade(document: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Bring a document of any supported ``format_version`` up to the current one."""
    if not isinstance(document, dict):
        return {}, [Problem("DAG010", f"expected a JSON object, found {describe(document)}", "")]
    version = document.get("format_version")
    supported = f"this dagnet reads format_version {_version_range()}"
    if "format_version" not in document:
        message = (
            f"missing 'format_version'; {supported}, so add \"format_version\": {FORMAT_VERSION}"
        )
        return {}, [Problem("DAG005", message, "/format_version")]
    if not isinstance(version, int) or isinstance(version, bool):
        message = f"format_version must be a whole number, found {describe(version)}"
        return {}, [Problem("DAG005", message, "/format_version")]
    if version > FORMAT_VERSION:
        message = (
            f"format_version {version} is newer than this dagnet knows ({supported}); "
            "upgrade dagnet to read this file"
        )
        return {}, [Problem("DAG005", message, "/format_version")]
    if version < OLDEST_FORMAT_VERSION:
        message = f"format_version {version} is not supported; {supported}"
        return {}, [Problem("DAG005", message, "/format_version")]
    while version < FORMAT_VERSION:
        document = UPGRADES[version](document)
        version += 1
        assert document["format_version"] == version
    return document, []


def _version_range() -> str:
    if OLDEST_FORMAT_VERSION == FORMAT_VERSION:
        return str(FORMAT_VERSION)
    return f"{OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}"
