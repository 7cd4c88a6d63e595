"""Simultaneous registrations: one email gives one account, one guest is upgraded once.

The losers get CONFLICT (never INTERNAL_SERVER_ERROR), and the database holds what the one
winner wrote. (A register whose token's user is already regular creates another account, as
`test_accounts` says: an upgrade's loser that starts after the upgrade committed does that.)
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
    """REGISTERED, or the code of the answer's error."""
    if answer.get("errors"):
        return str(answer["errors"][0]["extensions"]["code"])
    assert answer["data"]["register"]["user"]["id"]
    return "REGISTERED"


def _user_id(answer: dict[str, Any]) -> str | None:
    """The id of the user an answer signed in, or None for an error."""
    return None if answer.get("errors") else str(answer["data"]["register"]["user"]["id"])


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
    guest_id = guest["user"]["id"]
    emails = [f"guest{n}@example.com" for n in range(4)]
    answers = await _register_all(client, emails, guest["accessToken"])

    upgrades = [a for a in answers if _user_id(a) == guest_id]
    assert len(upgrades) == 1
    # the others: CONFLICT while the caller still read as a guest, else (the upgrade was
    # committed first) a new account, as for any regular user's token
    others = {_outcome(a) for a in answers if _user_id(a) != guest_id}
    assert others <= {"CONFLICT", "REGISTERED"}
    new_accounts = {
        uuid.UUID(a["data"]["register"]["user"]["id"])
        for a in answers
        if _user_id(a) not in {None, guest_id}
    }
    users = {user.id: user for user in await _users(app)}
    assert set(users) == {uuid.UUID(guest_id)} | new_accounts
    upgraded = users[uuid.UUID(guest_id)]
    assert (upgraded.email, upgraded.user_type) == (
        upgrades[0]["data"]["register"]["user"]["email"],
        UserType.REGULAR,
    )
