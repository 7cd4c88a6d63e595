"""Write the schema's SDL to `schema.graphql`, or check that the file is up to date.

Usage:
    uv run python -m src.api.export_schema          # write schema.graphql
    uv run python -m src.api.export_schema --check  # exit 1 when it differs from the code
"""

import sys
from pathlib import Path

from strawberry.printer import print_schema

from src.api.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def schema_sdl() -> str:
    """The schema as SDL, as it is written to the file."""
    return print_schema(schema) + "\n"


def main(argv: list[str]) -> int:
    """Write or check the file; returns the exit code."""
    if "--check" in argv:
        if SCHEMA_FILE.exists() and SCHEMA_FILE.read_text() == schema_sdl():
            return 0
        print("schema.graphql is out of date: run `uv run python -m src.api.export_schema`")
        return 1
    SCHEMA_FILE.write_text(schema_sdl())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
