"""Migrations: they match the models, and go down to base and up again, on both backends."""

import asyncio
import uuid
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection

from alembic import command
from src.lib.db import models  # noqa: F401
from src.lib.db.base import Base
from src.lib.db.fulltext import include_name
from src.lib.db.migrate import alembic_config, upgrade_to_head
from src.lib.db.session import create_engine

TABLES = {"users", "refresh_tokens", "chats", "messages", "message_feedback", "usage_records"}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_name": include_name})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    """The tables of the models (the full-text index's are tested in test_search_migration)."""
    names = set(inspect(connection).get_table_names()) - {"alembic_version"}
    return {name for name in names if include_name(name, "table", {})}


async def _inspect(url: str) -> tuple[set[str], list[object]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_tables), await connection.run_sync(_diff)
    finally:
        await engine.dispose()


async def test_upgrade_matches_the_models_and_round_trips(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    tables, diff = await _inspect(empty_database_url)
    assert tables == TABLES
    assert diff == []

    await asyncio.to_thread(command.downgrade, alembic_config(empty_database_url), "base")
    assert (await _inspect(empty_database_url))[0] == set()

    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    tables, diff = await _inspect(empty_database_url)
    assert (tables, diff) == (TABLES, [])


async def test_usage_records_are_filled_from_existing_user_messages(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "ab3223561e5f")
    user, chat = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    rows = {
        "users": {"id": user, "user_type": "GUEST", "is_active": True},
        "chats": {"id": chat, "user_id": user, "title": "t", "visibility": "PRIVATE"},
    }
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            for table, values in rows.items():
                await connection.execute(
                    Base.metadata.tables[table]
                    .insert()
                    .values(created_at=now, updated_at=now, **values)
                )
            messages = Base.metadata.tables["messages"]
            for role in ("USER", "ASSISTANT", "USER"):
                await connection.execute(
                    messages.insert().values(
                        id=uuid.uuid4(), chat_id=chat, role=role, parts=[], text="",
                        status="COMPLETE", created_at=now, updated_at=now,
                    )
                )  # fmt: skip
        await asyncio.to_thread(upgrade_to_head, empty_database_url)
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(Base.metadata.tables["usage_records"])
            )
    finally:
        await engine.dispose()
    assert count == 2


async def _rows(connection: AsyncConnection, table: str) -> int:
    return int(
        await connection.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0
    )


async def test_large_chats_count_existing_messages_and_keep_feedback_both_ways(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "9620b41fe850")
    user, chat, thread = uuid.uuid4(), uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    stamps = {"created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
    messages: list[tuple[str, dict[str, object]]] = [
        ("messages", {"id": message, "chat_id": chat, "parent_msg_id": parent, "role": "USER",
                      "parts": [], "text": "", "status": "COMPLETE"})
        for parent, message in zip([None, *thread], thread, strict=False)
    ]  # fmt: skip
    rows: list[tuple[str, dict[str, object]]] = [
        ("users", {"id": user, "user_type": "GUEST", "is_active": True}),
        ("chats", {"id": chat, "user_id": user, "title": "t", "visibility": "PRIVATE"}),
        *messages,
        ("message_feedback", {"id": uuid.uuid4(), "message_id": thread[0], "user_id": user,
                              "rating": "UP"}),
    ]  # fmt: skip
    engine = create_engine(empty_database_url)

    async def stored() -> tuple[int, int]:
        async with engine.connect() as connection:
            return await _rows(connection, "messages"), await _rows(connection, "message_feedback")

    try:
        async with engine.begin() as connection:
            for table, values in rows:
                await connection.execute(
                    Base.metadata.tables[table].insert().values(**values, **stamps)
                )
        await asyncio.to_thread(upgrade_to_head, empty_database_url)
        assert await stored() == (3, 1)
        async with engine.connect() as connection:
            chats = Base.metadata.tables["chats"]
            assert await connection.scalar(select(chats.c.message_count)) == 3

        await asyncio.to_thread(command.downgrade, config, "9620b41fe850")
        assert await stored() == (3, 1)
        await asyncio.to_thread(upgrade_to_head, empty_database_url)
        assert await stored() == (3, 1)
    finally:
        await engine.dispose()


def _call(call_id: str) -> dict[str, object]:
    return {"type": "tool_call", "tool_call_id": call_id, "tool_name": "calculator",
            "arguments": {"expression": "1 + 1"}}  # fmt: skip


def _result(call_id: str, is_error: bool) -> dict[str, object]:
    return {"type": "tool_result", "tool_call_id": call_id, "tool_name": "calculator",
            "result": {"error": "x"} if is_error else 2, "is_error": is_error}  # fmt: skip


async def test_saved_tool_calls_get_a_state_and_lose_it_on_downgrade(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "4f2a6c8e0b12")
    user, chat, with_calls, plain = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old_parts = [
        {"type": "text", "text": "Let me see."},
        _call("ok"), _call("failed"), _call("unanswered"),
        _result("ok", False), _result("failed", True),
    ]  # fmt: skip
    text_parts = [{"type": "text", "text": "a tool_call is mentioned here"}]
    stamps = {"created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
    rows: list[tuple[str, dict[str, object]]] = [
        ("users", {"id": user, "user_type": "GUEST", "is_active": True}),
        ("chats", {"id": chat, "user_id": user, "title": "t", "visibility": "PRIVATE"}),
        *(("messages", {"id": message, "chat_id": chat, "role": "ASSISTANT", "parts": parts,
                        "text": "", "status": "COMPLETE"})
          for message, parts in ((with_calls, old_parts), (plain, text_parts))),
    ]  # fmt: skip
    messages = Base.metadata.tables["messages"]
    engine = create_engine(empty_database_url)

    async def parts_of(message: uuid.UUID) -> list[dict[str, object]]:
        async with engine.connect() as connection:
            found = await connection.scalar(
                select(messages.c.parts).where(messages.c.id == message)
            )
        assert isinstance(found, list)
        return found

    try:
        async with engine.begin() as connection:
            for table, values in rows:
                await connection.execute(
                    Base.metadata.tables[table].insert().values(**values, **stamps)
                )
        await asyncio.to_thread(upgrade_to_head, empty_database_url)
        states = [p.get("state") for p in await parts_of(with_calls)]
        assert states == [None, "DONE", "ERROR", "ERROR", None, None]
        assert await parts_of(plain) == text_parts

        await asyncio.to_thread(command.downgrade, config, "4f2a6c8e0b12")
        assert await parts_of(with_calls) == old_parts
    finally:
        await engine.dispose()
