"""`schema.graphql` is the code's schema, and holds the contract's types unchanged."""

import sys
from pathlib import Path

from graphql import build_schema

from src.api.export_schema import SCHEMA_FILE, schema_sdl

CONTRACT_TOOLS = Path(__file__).resolve().parents[2] / "shared" / "tools"


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), "run: uv run python -m src.api.export_schema"


def test_schema_file_has_the_contract_types_unchanged() -> None:
    sys.path.insert(0, str(CONTRACT_TOOLS))
    from contract_check import CONTRACT, differences

    contract = build_schema(CONTRACT.read_text())
    ours = build_schema(SCHEMA_FILE.read_text())
    assert differences(contract, ours, set()) == []
