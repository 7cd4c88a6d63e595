"""Operator commands on real databases: migrate, create-user, deactivate-user, purge-guests.

Each command runs with the settings a server would read (the environment), on the database of
the `client` fixture's app (SQLite and PostgreSQL), and its effect is checked over HTTP or in
the database. `migrate` runs as `main.py migrate` on a fresh database of each backend.
"""

import uuid
from datetime import timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import func, select, text, update

from src.lib.db.migrate import alembic_config
from src.lib.db.models import Chat, Message, RefreshToken, User
from src.lib.db.session import create_engine
from src.lib.db.types import utcnow
from tests.cli.commands import environment, invoke, run_main
from tests.factories import Person, add_message, create_chat
from tests.helpers import GraphQLClient

LOGIN = """
mutation Login($input: LoginInput!) { login(input: $input) { accessToken user { id email } } }
"""
ME = "query Me { me { id userType } }"
PASSWORD = "correct horse"


async def test_migrate_brings_a_fresh_database_to_the_head(
    empty_database_url: str, tmp_path: Path
) -> None:
    code, output = await run_main(["migrate"], environment(empty_database_url, tmp_path))

    assert code == 0, output
    assert "is at the latest revision" in output
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            versions = set(rows.scalars())
    finally:
        await engine.dispose()
    assert versions == set(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def test_a_created_user_signs_in_over_http(
    client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url, tmp_path)
    result = await invoke(["create-user", "Ada@Example.com", "--password-stdin"], env, PASSWORD)

    assert result.exit_code == 0, result.output
    login = await client.data(LOGIN, {"input": {"email": "ada@example.com", "password": PASSWORD}})
    user = login["login"]["user"]
    assert user["email"] == "ada@example.com"
    assert f"({user['id']})" in result.output
    me = (await client.data(ME, token=login["login"]["accessToken"]))["me"]
    assert me["userType"] == "REGULAR"


async def test_create_user_prompts_for_the_password_twice(
    client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url, tmp_path)
    result = await invoke(["create-user", "bob@example.com"], env, f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    await client.data(LOGIN, {"input": {"email": "bob@example.com", "password": PASSWORD}})


async def test_create_user_refuses_a_taken_email_and_a_short_password(
    client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    await client.register("ada@example.com", PASSWORD)
    env = environment(database_url, tmp_path)

    taken = await invoke(["create-user", "ada@example.com", "--password-stdin"], env, "x" * 10)
    short = await invoke(["create-user", "eve@example.com", "--password-stdin"], env, "short")

    assert (taken.exit_code, short.exit_code) == (1, 1)
    assert "error: An account with this email already exists." in taken.output
    assert "error: Password must be 8 to 1024 characters." in short.output


async def test_a_deactivated_user_cannot_sign_in_and_its_token_stops_working(
    client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    token = (await client.register("ada@example.com", PASSWORD))["accessToken"]

    result = await invoke(
        ["deactivate-user", "ada@example.com"], environment(database_url, tmp_path)
    )

    assert result.exit_code == 0, result.output
    credentials = {"input": {"email": "ada@example.com", "password": PASSWORD}}
    assert (await client.error(LOGIN, credentials))["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await client.error(ME, token=token))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_deactivating_an_unknown_email_fails(
    client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    result = await invoke(
        ["deactivate-user", "eve@example.com"], environment(database_url, tmp_path)
    )

    assert result.exit_code == 1
    assert "error: No account has this email." in result.output


async def _age(app: FastAPI, user_id: str, days: int) -> None:
    """Make a user, its chats and its refresh tokens last active `days` days ago."""
    moment = utcnow() - timedelta(days=days)
    owner = uuid.UUID(user_id)
    async with app.state.runtime.session_factory.begin() as db:
        await db.execute(update(User).where(User.id == owner).values(updated_at=moment))
        await db.execute(update(Chat).where(Chat.user_id == owner).values(updated_at=moment))
        await db.execute(
            update(RefreshToken).where(RefreshToken.user_id == owner).values(created_at=moment)
        )


async def test_purge_guests_deletes_old_guests_with_their_chats_only(
    client: GraphQLClient, app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    old, recent = (await client.guest())["user"]["id"], (await client.guest())["user"]["id"]
    regular = (await client.register("ada@example.com", PASSWORD))["user"]["id"]
    chats = {}
    for user_id in (old, recent, regular):
        chats[user_id] = await create_chat(app, Person(user_id, token=""))
        question = await add_message(app, chats[user_id], "hello")
        await add_message(app, chats[user_id], "hi", parent_id=question)
    await _age(app, old, days=31)
    await _age(app, regular, days=400)
    await _age(app, recent, days=29)

    result = await invoke(
        ["purge-guests", "--older-than", "30"], environment(database_url, tmp_path)
    )

    assert result.exit_code == 0, result.output
    assert "purged 1 guest(s)" in result.output
    async with app.state.runtime.session_factory() as db:
        users = set(map(str, (await db.execute(select(User.id))).scalars()))
        chat_ids = set(map(str, (await db.execute(select(Chat.id))).scalars()))
        messages = await db.scalar(
            select(func.count()).where(Message.chat_id == uuid.UUID(chats[old]))
        )
    assert users == {recent, regular}
    assert chat_ids == {chats[recent], chats[regular]}
    assert messages == 0
