"""UserRepository: creation with defaults, and lookups by id and by email."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import UserType
from src.lib.db.repositories.user import UserRepository
from src.lib.db.session import SessionFactory
from tests.lib.db.factories import make_user, new_id


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
