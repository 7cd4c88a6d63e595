"""Password hashing: Argon2id parameters, rehash on login, bad hashes."""

import uuid

import argon2
from fastapi import FastAPI
from sqlalchemy import select

from src.core.config import Settings
from src.core.security import PasswordHasher
from src.lib.db.models import User
from tests.helpers import GraphQLClient

LOGIN = "mutation L($i: LoginInput!) { login(input: $i) { user { id } } }"


def test_default_cost_meets_the_owasp_minimum() -> None:
    settings = Settings(_env_file=None)
    assert settings.argon2_memory_kib >= 19 * 1024
    assert settings.argon2_time_cost >= 2
    hasher = PasswordHasher(1, 8, 1)
    assert argon2.extract_parameters(hasher._dummy_hash).type is argon2.Type.ID


async def test_a_malformed_stored_hash_is_a_failed_check_not_an_error() -> None:
    hasher = PasswordHasher(1, 8, 1)
    assert await hasher.verify("not-a-hash", "whatever") is False
    assert await hasher.verify(await hasher.hash("right one"), "right one") is True


async def test_login_upgrades_a_hash_made_with_old_parameters(
    client: GraphQLClient, app: FastAPI
) -> None:
    user_id = uuid.UUID((await client.register("ada@example.com", "correct horse"))["user"]["id"])
    old_hash = argon2.PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(
        "correct horse"
    )
    async with app.state.runtime.session_factory.begin() as db:
        (await db.get(User, user_id)).password_hash = old_hash

    await client.data(LOGIN, {"i": {"email": "ada@example.com", "password": "correct horse"}})

    async with app.state.runtime.session_factory() as db:
        new_hash = (await db.execute(select(User.password_hash).where(User.id == user_id))).scalar()
    assert new_hash != old_hash
    params = argon2.extract_parameters(new_hash)
    assert (params.time_cost, params.memory_cost) == (1, 8)
    await client.data(LOGIN, {"i": {"email": "ada@example.com", "password": "correct horse"}})
