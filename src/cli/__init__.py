"""The command line: `uv run main.py <command>` (see src/cli/app.py)."""
