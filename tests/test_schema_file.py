"""`schema.graphql` is the code's schema (`.ci/run` compares it with the API contract)."""

from src.api.export_schema import SCHEMA_FILE, schema_sdl


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), "run: uv run python -m src.api.export_schema"
