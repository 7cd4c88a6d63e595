"""Issue 11 item 11: a signed token whose `exp` no datetime can hold is UNAUTHENTICATED."""

import json
import time

import pytest
import websockets
from jose import jwt
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.conftest import TEST_SECRET
from tests.helpers import GraphQLClient

ME = "query Me { me { id } }"


async def _far_future_token(client: GraphQLClient, exp: int) -> str:
    user_id = (await client.register())["user"]["id"]
    claims = {"sub": user_id, "iat": int(time.time()), "exp": exp, "jti": "j", "typ": "access"}
    return str(jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


@pytest.mark.parametrize("exp", [10**20, 2**63])
async def test_an_overflowing_exp_is_unauthenticated_over_http(
    client: GraphQLClient, exp: int
) -> None:
    token = await _far_future_token(client, exp)
    error = await client.error(ME, token=token)
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_an_overflowing_exp_closes_the_socket_with_4403(
    client: GraphQLClient, server_url: str
) -> None:
    token = await _far_future_token(client, 10**20)
    async with websockets.connect(
        server_url, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        payload = {"authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4403
