"""UserRepository: creation with defaults, lookups by id and by email, the purge of idle guests."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import UserType
from src.lib.db.models import Chat, Message, RefreshToken, User
from src.lib.db.repositories.user import UserRepository
from src.lib.db.session import SessionFactory
from tests.lib.db.factories import (
    at,
    count_rows,
    make_chat,
    make_message,
    make_user,
    new_id,
)


async def test_create_flushes_the_user_with_its_id_and_defaults(db: AsyncSession) -> None:
    user = await UserRepository.create(db, UserType.REGULAR, "ada@example.com", "hash")

    assert user.id is not None
    assert user.is_active is True
    assert user.created_at is not None
    assert user.created_at.tzinfo is not None
    assert await UserRepository.get(db, user.id) is user


async def test_create_keeps_the_fields_it_was_given(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as db:
        created = await UserRepository.create(db, UserType.REGULAR, "ada@example.com", "hash")

    async with session_factory() as db:
        user = await UserRepository.get(db, created.id)
    assert user is not None
    assert (user.email, user.password_hash, user.user_type, user.is_active) == (
        "ada@example.com",
        "hash",
        UserType.REGULAR,
        True,
    )


async def test_guests_have_no_email_and_many_of_them_can_exist(db: AsyncSession) -> None:
    first = await UserRepository.create(db, UserType.GUEST, None, None)
    second = await UserRepository.create(db, UserType.GUEST, None, None)

    assert first.id != second.id
    assert (first.email, first.password_hash, first.user_type) == (None, None, UserType.GUEST)


async def test_an_email_belongs_to_one_user_only(db: AsyncSession) -> None:
    await UserRepository.create(db, UserType.REGULAR, "ada@example.com", "hash")

    with pytest.raises(IntegrityError):
        await UserRepository.create(db, UserType.REGULAR, "ada@example.com", "other")


async def test_get_returns_none_for_an_unknown_id(db: AsyncSession) -> None:
    await make_user(db)

    assert await UserRepository.get(db, new_id()) is None


async def test_get_by_email_finds_only_that_address(db: AsyncSession) -> None:
    ada = await make_user(db, "ada@example.com")
    await make_user(db, "bob@example.com")
    await make_user(db)

    assert await UserRepository.get_by_email(db, "ada@example.com") is ada
    assert await UserRepository.get_by_email(db, "eve@example.com") is None


async def test_purge_idle_guests_deletes_only_guests_with_no_activity_since(
    db: AsyncSession,
) -> None:
    since = at(0)
    idle = await _guest_last_seen(db, at(-10))
    await make_message(db, await make_chat(db, idle, updated_at=at(-20)))
    chatting = await _guest_last_seen(db, at(-10))
    await make_chat(db, chatting, updated_at=at(5))
    refreshed = await _guest_last_seen(db, at(-10))
    db.add(_token(refreshed, issued=at(1)))
    seen_now = await _guest_last_seen(db, at(0))
    regular = await make_user(db, "ada@example.com")
    regular.updated_at = at(-10)
    await db.flush()

    assert await UserRepository.purge_idle_guests(db, since) == 1

    db.expunge_all()
    remaining = set((await db.execute(select(User.id))).scalars())
    assert remaining == {chatting.id, refreshed.id, seen_now.id, regular.id}
    assert await count_rows(db, Chat) == 1
    assert await count_rows(db, Message) == 0


async def _guest_last_seen(db: AsyncSession, moment: datetime) -> User:
    """A guest whose row was last updated at that moment."""
    guest = await make_user(db)
    guest.created_at = guest.updated_at = moment
    await db.flush()
    return guest


def _token(user: User, issued: datetime) -> RefreshToken:
    return RefreshToken(
        user_id=user.id,
        token_hash=new_id().hex,
        family_id=new_id(),
        expires_at=issued + timedelta(days=30),
        created_at=issued,
    )
