"""`main.py --help` lists every command (without a command the server starts: see test_chat)."""

from typer.testing import CliRunner

from src.cli.app import app

COMMANDS = ("serve", "migrate", "chat", "purge-guests", "create-user", "deactivate-user")


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    listed = [line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")]
    assert set(COMMANDS) <= set(listed)
    assert "Without a command: serve." in result.output


def test_purge_guests_needs_a_positive_number_of_days() -> None:
    result = CliRunner().invoke(app, ["purge-guests", "--older-than", "0"])

    assert result.exit_code == 2
    assert "--older-than" in result.output
