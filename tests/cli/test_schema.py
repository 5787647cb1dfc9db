"""``dagnet schema``, after the command line contract in README.md: it prints the committed
JSON schema, which every example graph follows.

Every command runs through Click's ``CliRunner`` (stdout and stderr kept apart) in a fresh
``tmp_path``; the example graphs are copied there first, so no test writes into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import dagnet
from tests.cli.helpers import SCHEMA_FILE, read_json, run
from tests.conftest import GRAPHS


def test_schema_prints_the_committed_schema(runner: CliRunner) -> None:
    result = run(runner, "schema")
    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(result.stdout) == dagnet.json_schema()


@pytest.mark.parametrize("path", sorted(GRAPHS.glob("*.json")), ids=lambda p: p.name)
def test_example_graphs_follow_the_schema(path: Path) -> None:
    jsonschema.validate(read_json(path), read_json(SCHEMA_FILE))
