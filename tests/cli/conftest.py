"""Fixtures of the command line tests: example graphs copied into a fresh folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import copy_example


@pytest.fixture
def xor(tmp_path: Path) -> Path:
    """graphs/xor.json (inline data) copied into a fresh folder."""
    return copy_example("xor", tmp_path)


@pytest.fixture
def bump(tmp_path: Path) -> Path:
    """graphs/multi_output.json with its CSV, copied into a fresh folder."""
    return copy_example("multi_output", tmp_path)
