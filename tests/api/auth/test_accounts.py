"""Registration, login, guests, upgrade in place, `me` and entitlements."""

import pytest
from fastapi import FastAPI

from src.core.security import PasswordHasher
from tests.helpers import REGISTER, GraphQLClient

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken tokenType expiresIn user { id email } }
}
"""
ME = """
query Me {
  me {
    id email userType createdAt
    entitlements { maxMessagesPerDay messagesUsedToday messagesRemaining availableModels }
  }
}
"""


async def test_register_returns_a_session_for_a_normalized_email(client: GraphQLClient) -> None:
    payload = await client.register("  Ada@Example.COM ", "correct horse")
    assert payload["tokenType"] == "Bearer"
    assert payload["expiresIn"] == 900
    assert payload["user"]["email"] == "ada@example.com"
    assert payload["user"]["userType"] == "REGULAR"
    me = (await client.data(ME, token=payload["accessToken"]))["me"]
    assert me["id"] == payload["user"]["id"]
    assert me["entitlements"] == {
        "maxMessagesPerDay": 200,
        "messagesUsedToday": 0,
        "messagesRemaining": 200,
        "availableModels": ["demo"],
    }


async def test_login_accepts_any_case_and_returns_new_tokens(client: GraphQLClient) -> None:
    registered = await client.register("ada@example.com", "correct horse")
    data = await client.data(
        LOGIN, {"input": {"email": " ADA@example.com", "password": "correct horse"}}
    )
    assert data["login"]["user"]["id"] == registered["user"]["id"]
    assert data["login"]["refreshToken"] != registered["refreshToken"]


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", "correct horse", "email"),
        ("a@b", "correct horse", "email"),
        ("", "correct horse", "email"),
        ("ada@example.com", "short", "password"),
        ("ada@example.com", "x" * 1025, "password"),
    ],
)
async def test_register_rejects_bad_input_with_the_field(
    client: GraphQLClient, email: str, password: str, field: str
) -> None:
    error = await client.error(REGISTER, {"input": {"email": email, "password": password}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_register_accepts_the_longest_password(client: GraphQLClient) -> None:
    payload = await client.register("long@example.com", "p" * 1024)
    assert payload["user"]["email"] == "long@example.com"


async def test_register_twice_is_a_conflict(client: GraphQLClient) -> None:
    await client.register("ada@example.com")
    error = await client.error(
        REGISTER, {"input": {"email": "ADA@example.com", "password": "another one"}}
    )
    assert error["extensions"]["code"] == "CONFLICT"


async def test_wrong_password_and_unknown_email_give_the_same_error(
    client: GraphQLClient,
) -> None:
    await client.register("ada@example.com", "correct horse")
    wrong = await client.error(
        LOGIN, {"input": {"email": "ada@example.com", "password": "wrong horse"}}
    )
    unknown = await client.error(
        LOGIN, {"input": {"email": "bob@example.com", "password": "wrong horse"}}
    )
    assert wrong["extensions"] == unknown["extensions"] == {"code": "UNAUTHENTICATED"}
    assert wrong["message"] == unknown["message"] == "Invalid email or password."


async def test_unknown_email_costs_a_password_check_like_a_known_one(
    client: GraphQLClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.register("ada@example.com", "correct horse")
    hasher: PasswordHasher = app.state.runtime.hasher
    checked: list[str | None] = []
    real_verify = hasher.verify

    async def counting_verify(password_hash: str | None, password: str) -> bool:
        checked.append(password_hash)
        return await real_verify(password_hash, password)

    monkeypatch.setattr(hasher, "verify", counting_verify)
    for email in ("ada@example.com", "nobody@example.com"):
        await client.error(LOGIN, {"input": {"email": email, "password": "wrong horse"}})
    assert len(checked) == 2
    assert checked[0] is not None and checked[1] is None


async def test_guest_then_register_upgrades_the_same_user(client: GraphQLClient) -> None:
    guest = await client.guest()
    assert guest["user"]["userType"] == "GUEST"
    assert guest["user"]["email"] is None
    me = (await client.data(ME, token=guest["accessToken"]))["me"]
    assert me["entitlements"]["maxMessagesPerDay"] == 20
    upgraded = (
        await client.data(
            REGISTER,
            {"input": {"email": "guest@example.com", "password": "correct horse"}},
            token=guest["accessToken"],
        )
    )["register"]
    assert upgraded["user"]["id"] == guest["user"]["id"]
    assert upgraded["user"]["userType"] == "REGULAR"
    me = (await client.data(ME, token=upgraded["accessToken"]))["me"]
    assert me["entitlements"]["maxMessagesPerDay"] == 200
    assert me["email"] == "guest@example.com"


async def test_register_with_a_regular_users_token_creates_another_user(
    client: GraphQLClient,
) -> None:
    first = await client.register("ada@example.com")
    second = (
        await client.data(
            REGISTER,
            {"input": {"email": "bob@example.com", "password": "correct horse"}},
            token=first["accessToken"],
        )
    )["register"]
    assert second["user"]["id"] != first["user"]["id"]


async def test_me_without_a_token_is_unauthenticated(client: GraphQLClient) -> None:
    error = await client.error(ME)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == ["me"]
