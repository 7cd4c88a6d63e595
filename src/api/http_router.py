"""Strawberry's FastAPI router, made to answer GraphQL over HTTP as the specification says.

`GraphQLHTTPRouter` changes only the HTTP side, through Strawberry's hooks:
- content negotiation on Accept (`application/graphql-response+json` or `application/json`),
  with 400 and no `data` for request errors under the former (see `http_negotiation`);
- POST bodies must be `application/json` (else 415) holding a JSON object (else 400);
  JSON nested too deeply for the parser is refused the same way, on HTTP and WebSockets;
- mutations and subscriptions by GET get 405, subscriptions by POST 400: HTTP runs queries
  and mutations only (subscriptions stream over WebSockets);
- every refusal is a GraphQL error body (`extensions.code` BAD_USER_INPUT), never plain text.
"""

import json
from typing import Any, overload

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from src.api.context import Context
from src.api.http_negotiation import negotiate, refusal, request_error_status

JSON_MEDIA_TYPE = "application/json"
REFUSED_MUTATION = "Only queries can be sent by GET; send mutations by POST."
REFUSED_SUBSCRIPTION = "Subscriptions are served over WebSockets (graphql-transport-ws) only."


def decode_json_object(data: str | bytes) -> dict[str, Any]:
    """Parse a JSON text that must hold an object.

    Raises:
        json.JSONDecodeError: If it is not JSON, is nested too deeply to parse, or is not an
            object; Strawberry turns this into a 400 on HTTP and a 4400 close on WebSockets.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", text, 0) from None
    if not isinstance(value, dict):
        raise json.JSONDecodeError("a JSON object is required", text, 0)
    return value


class GraphQLHTTPRouter(GraphQLRouter[Context, None]):
    """A GraphQLRouter that negotiates its answers and refuses bad requests with 4xx."""

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON the endpoint reads (body, GET parameters, socket frames) is an object."""
        return decode_json_object(data)

    def parse_json(self, data: str | bytes) -> Any:
        """Parse a request's JSON, naming what is wrong with it in the 400."""
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as error:
            raise HTTPException(400, f"The request's JSON is not valid: {error.msg}.") from error

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """Read the operation; a POST must be `application/json` (UTF-8), else 415."""
        if request.method == "POST":
            media_type, params = parse_content_type(request.content_type or "")
            charset = params.get("charset", "utf-8").lower()
            if media_type.lower() != JSON_MEDIA_TYPE or charset != "utf-8":
                raise HTTPException(415, "Send the operation as application/json (UTF-8).")
        data = await super().parse_http_body(request)
        assert isinstance(data, GraphQLRequestData)  # batching is off: a list was refused
        return data

    @overload
    async def run(
        self, request: Request, context: Context = UNSET, root_value: None = UNSET
    ) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> WebSocket: ...

    async def run(
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        """Serve one request; HTTP answers get the negotiated media type and status."""
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        media_type = negotiate(request.headers.get("accept"))
        request.state.graphql_media_type = media_type
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            return _refused(request, error, media_type)
        if getattr(request.state, "graphql_status", None) is not None:
            response.status_code = request.state.graphql_status
            response.headers["content-type"] = media_type
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Shape a result for the negotiated media type, and note its status."""
        body = await super().process_result(request, result)
        request.state.graphql_status = 200
        if request.state.graphql_media_type == JSON_MEDIA_TYPE:
            return body
        status = request_error_status(result.data, result.errors)
        if status is not None:
            request.state.graphql_status = status
            body.pop("data", None)
        return body


def _refused(request: Request, error: HTTPException, media_type: str) -> JSONResponse:
    status, message, headers = error.status_code, error.reason, {}
    cause = error.__cause__
    if isinstance(cause, InvalidOperationTypeError):
        subscription = cause.operation_type is OperationType.SUBSCRIPTION
        message = REFUSED_SUBSCRIPTION if subscription else REFUSED_MUTATION
        if request.method == "GET":
            status, headers = 405, {"Allow": "POST"}
    return JSONResponse(refusal(message), status, headers, media_type=media_type)
