"""Access and refresh tokens: every way a token can be bad, rotation, reuse, logout."""

import base64
import json
import time
import uuid

from fastapi import FastAPI
from jose import jwt
from sqlalchemy import update

from src.core.security import create_access_token
from src.lib.db.models import User
from tests.conftest import TEST_SECRET
from tests.helpers import GraphQLClient

ME = "query Me { me { id } }"
REFRESH = """
mutation Refresh($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken user { id } }
}
"""
LOGOUT = "mutation Logout($token: String!) { logout(refreshToken: $token) }"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _assert_rejected(client: GraphQLClient, token: str) -> None:
    error = await client.error(ME, token=token)
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert error["message"] == "Invalid or expired token."


async def test_a_valid_token_identifies_the_user(client: GraphQLClient) -> None:
    payload = await client.register()
    claims = jwt.get_unverified_claims(payload["accessToken"])
    assert set(claims) == {"sub", "exp", "iat", "jti", "typ"}
    assert claims["exp"] - claims["iat"] == 900
    me = await client.data(ME, token=payload["accessToken"])
    assert me["me"]["id"] == payload["user"]["id"] == claims["sub"]


async def test_expired_token_is_rejected(client: GraphQLClient) -> None:
    user_id = uuid.UUID((await client.register())["user"]["id"])
    now = int(time.time())
    token = jwt.encode(
        {"sub": str(user_id), "iat": now - 120, "exp": now - 60, "jti": "x", "typ": "access"},
        TEST_SECRET,
        algorithm="HS256",
    )
    await _assert_rejected(client, token)


async def test_tampered_token_is_rejected(client: GraphQLClient) -> None:
    token = (await client.register())["accessToken"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    await _assert_rejected(client, f"{header}.{_b64(claims)}.{signature}")


async def test_token_signed_with_another_secret_is_rejected(client: GraphQLClient) -> None:
    user_id = uuid.UUID((await client.register())["user"]["id"])
    await _assert_rejected(client, create_access_token(user_id, "another-secret-" * 4, 900))


async def test_alg_none_token_is_rejected(client: GraphQLClient) -> None:
    token = (await client.register())["accessToken"]
    claims = jwt.get_unverified_claims(token)
    await _assert_rejected(client, f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.")


async def test_token_issued_in_the_future_is_rejected(client: GraphQLClient) -> None:
    user_id = (await client.register())["user"]["id"]
    now = int(time.time())
    claims = {"sub": user_id, "iat": now + 3600, "exp": now + 7200, "jti": "x", "typ": "access"}
    await _assert_rejected(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_token_without_type_is_rejected(client: GraphQLClient) -> None:
    user_id = (await client.register())["user"]["id"]
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + 60, "jti": "x"}
    await _assert_rejected(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_garbage_and_other_schemes_are_rejected(client: GraphQLClient) -> None:
    await _assert_rejected(client, "not.a.jwt")
    response = await client.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": "Basic abc"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refresh_token_is_not_an_access_token(client: GraphQLClient) -> None:
    payload = await client.register()
    await _assert_rejected(client, payload["refreshToken"])


async def test_refresh_rotates_and_reuse_revokes_the_family(client: GraphQLClient) -> None:
    first = await client.register()
    second = (await client.data(REFRESH, {"token": first["refreshToken"]}))["refreshToken"]
    assert second["user"]["id"] == first["user"]["id"]
    assert second["refreshToken"] != first["refreshToken"]
    await client.data(ME, token=second["accessToken"])

    reused = await client.error(REFRESH, {"token": first["refreshToken"]})
    assert reused["extensions"]["code"] == "UNAUTHENTICATED"
    # The reuse revoked the live successor too.
    stolen = await client.error(REFRESH, {"token": second["refreshToken"]})
    assert stolen["extensions"]["code"] == "UNAUTHENTICATED"


async def test_other_sessions_survive_a_family_revocation(client: GraphQLClient) -> None:
    first = await client.register("ada@example.com", "correct horse")
    other = (
        await client.data(
            "mutation L($i: LoginInput!) { login(input: $i) { refreshToken } }",
            {"i": {"email": "ada@example.com", "password": "correct horse"}},
        )
    )["login"]
    await client.data(REFRESH, {"token": first["refreshToken"]})
    await client.error(REFRESH, {"token": first["refreshToken"]})
    assert (await client.data(REFRESH, {"token": other["refreshToken"]}))["refreshToken"]


async def test_unknown_refresh_token_is_unauthenticated(client: GraphQLClient) -> None:
    error = await client.error(REFRESH, {"token": "made-up"})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_revokes_the_refresh_token(client: GraphQLClient) -> None:
    payload = await client.register()
    assert (await client.data(LOGOUT, {"token": payload["refreshToken"]}))["logout"] is True
    assert (await client.data(LOGOUT, {"token": payload["refreshToken"]}))["logout"] is False
    error = await client.error(REFRESH, {"token": payload["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_deleted_users_tokens_stop_working(client: GraphQLClient, app: FastAPI) -> None:
    payload = await client.register()
    async with app.state.runtime.session_factory.begin() as db:
        await db.delete(await db.get(User, uuid.UUID(payload["user"]["id"])))
    await _assert_rejected(client, payload["accessToken"])
    error = await client.error(REFRESH, {"token": payload["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_deactivated_users_tokens_stop_working(client: GraphQLClient, app: FastAPI) -> None:
    payload = await client.register()
    async with app.state.runtime.session_factory.begin() as db:
        await db.execute(
            update(User).where(User.id == uuid.UUID(payload["user"]["id"])).values(is_active=False)
        )
    await _assert_rejected(client, payload["accessToken"])
    error = await client.error(REFRESH, {"token": payload["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
