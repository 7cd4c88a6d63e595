"""The command line of `uv run main.py`: the server, and tools for its users and operators.

Offers:
- app: the Typer application (`serve` when no command is given).
- run_cli: run it with the process's arguments.

Commands: serve, migrate, chat, create-user, deactivate-user, purge-guests. The operator
commands read the same settings as the server (environment and `.env`).
"""

import asyncio
import sys
from collections.abc import Coroutine
from typing import Annotated, Any

import typer
from rich.console import Console

from src.cli import admin
from src.cli.chat import ask_credentials, run_chat
from src.cli.serve import serve
from src.cli.transport import ApiError
from src.core.config import Settings, get_settings
from src.core.exceptions import AppError

app = typer.Typer(
    help="GraphQL chat API server for LLM applications. Without a command: serve.",
    add_completion=False,
)


def _run[T](work: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; an error the user can fix ends it with its message."""
    try:
        return asyncio.run(work)
    except (AppError, ApiError) as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None


@app.callback(invoke_without_command=True)
def default(context: typer.Context) -> None:
    """Serve when no command is given."""
    if context.invoked_subcommand is None:
        serve_command()


@app.command("serve")
def serve_command() -> None:
    """Run the server (the default): HOST, PORT, WORKERS and the rest from the settings."""
    serve(get_settings())


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations and exit."""
    typer.echo(f"{admin.migrate(Settings())} is at the latest revision")


@app.command("chat")
def chat_command(
    url: Annotated[
        str | None,
        typer.Option(
            help="The server's address (default: http://127.0.0.1:PORT).", show_default=False
        ),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Sign in with this email.")] = None,
    guest: Annotated[bool, typer.Option("--guest", help="Start as a new guest.")] = False,
) -> None:
    """Chat in the terminal with a running server; Ctrl-C stops a reply."""
    credentials = ask_credentials(email, guest)
    try:
        server = url or f"http://127.0.0.1:{Settings().port}"
        _run(run_chat(server, credentials, Console(highlight=False)))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command("create-user")
def create_user_command(
    email: Annotated[str, typer.Argument(help="The new account's email.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a regular account (the password is prompted for unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user_id = _run(admin.create_user(Settings(), email, password))
    typer.echo(f"created {email} ({user_id})")


@app.command("deactivate-user")
def deactivate_user_command(
    email: Annotated[str, typer.Argument(help="The account's email.")],
) -> None:
    """Deactivate an account: it can no longer sign in, and its tokens stop working."""
    user_id = _run(admin.deactivate_user(Settings(), email))
    typer.echo(f"deactivated {email} ({user_id})")


@app.command("purge-guests")
def purge_guests_command(
    older_than: Annotated[
        int, typer.Option("--older-than", min=1, help="Days without activity.", metavar="DAYS")
    ],
) -> None:
    """Delete the guests idle for at least DAYS days, with their chats."""
    purged = _run(admin.purge_guests(Settings(), older_than))
    typer.echo(f"purged {purged} guest(s) idle for {older_than} day(s) or more")


def run_cli() -> None:
    """Run the command line with the process's arguments."""
    app(prog_name="main.py")
