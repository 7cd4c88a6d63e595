"""Simultaneous registrations: one email gives one account, one guest is upgraded once.

The losers get CONFLICT (never INTERNAL_SERVER_ERROR), and the database holds what the one
winner wrote.
"""

import asyncio
import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from src.core.enums import UserType
from src.lib.db.models import User
from tests.helpers import REGISTER, GraphQLClient


async def _register_all(
    client: GraphQLClient, emails: list[str], token: str | None = None
) -> list[dict[str, Any]]:
    """Post one register per email at once; the whole answer of each, in order."""
    inputs = [{"input": {"email": email, "password": "correct horse"}} for email in emails]
    return list(await asyncio.gather(*(client.post(REGISTER, i, token) for i in inputs)))


def _outcome(answer: dict[str, Any]) -> str:
    """ "REGISTERED", or the code of the answer's error."""
    if answer.get("errors"):
        return str(answer["errors"][0]["extensions"]["code"])
    assert answer["data"]["register"]["user"]["id"]
    return "REGISTERED"


async def _users(app: FastAPI) -> list[User]:
    async with app.state.runtime.session_factory() as db:
        return list((await db.execute(select(User))).scalars())


async def test_four_simultaneous_registrations_of_one_email_make_one_account(
    client: GraphQLClient, app: FastAPI
) -> None:
    answers = await _register_all(client, ["ada@example.com"] * 4)
    assert sorted(map(_outcome, answers)) == ["CONFLICT"] * 3 + ["REGISTERED"]
    assert [user.email for user in await _users(app)] == ["ada@example.com"]


async def test_four_simultaneous_upgrades_of_one_guest_upgrade_it_once(
    client: GraphQLClient, app: FastAPI
) -> None:
    guest = await client.guest()
    emails = [f"guest{n}@example.com" for n in range(4)]
    answers = await _register_all(client, emails, guest["accessToken"])
    outcomes = list(map(_outcome, answers))
    assert sorted(outcomes) == ["CONFLICT"] * 3 + ["REGISTERED"]

    winner = answers[outcomes.index("REGISTERED")]["data"]["register"]["user"]
    assert winner["id"] == guest["user"]["id"]
    [user] = await _users(app)
    assert (user.id, user.email, user.user_type) == (
        uuid.UUID(guest["user"]["id"]),
        winner["email"],
        UserType.REGULAR,
    )
