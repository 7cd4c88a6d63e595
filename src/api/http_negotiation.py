"""GraphQL over HTTP: the media type of an answer and its status, as the specification says.

- `GRAPHQL_RESPONSE_JSON`, `APPLICATION_JSON`: the two media types `/graphql` answers with.
- `negotiate(accept)`: which of them answers a request, from its Accept header.
- `request_error_status(result)`: the 4xx/5xx status of a result that failed before execution
  (parse, validation or variable coercion), or None when execution started.
- `refusal(message)`: the body of an HTTP-level refusal (bad body, method or content type).

With `application/json` every well-formed request gets 200, `data: null` included (the
answer older clients expect). With `application/graphql-response+json` a request error gets
400 and no `data` entry, so that HTTP tooling sees the failure.
"""

from collections.abc import Sequence

from graphql import GraphQLError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
REFUSAL_CODE = "BAD_USER_INPUT"

# Candidates in tie-break order: a bare wildcard (`*/*`) gets plain JSON, as the spec says.
_SUPPORTED = (APPLICATION_JSON, GRAPHQL_RESPONSE_JSON)


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their quality, in header order."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_range:
            ranges.append((media_range.lower(), quality))
    return ranges


def _preference(media_type: str, ranges: Sequence[tuple[str, float]]) -> tuple[float, int, int]:
    """How much the client wants `media_type`: (quality, specificity, earliness).

    The most specific range that matches decides the quality (RFC 9110, 12.5.1); among equally
    wanted types the one listed first wins.
    """
    kind = media_type.split("/", 1)[0]
    best = (0.0, -1, 0)
    for position, (media_range, quality) in enumerate(ranges):
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(media_range)
        if specificity is not None and specificity > best[1]:
            earliness = -position if specificity == 2 else -len(ranges)
            best = (quality, specificity, earliness)
    return best


def negotiate(accept: str | None) -> str:
    """The media type to answer with.

    Args:
        accept: The request's Accept header, if any.

    Returns:
        `application/graphql-response+json` when the client prefers it (or lists it first
        among equals); otherwise `application/json`, also when the header is missing or names
        neither (the spec lets a server then disregard it).
    """
    if not accept:
        return APPLICATION_JSON
    ranges = _ranges(accept)
    chosen, chosen_preference = APPLICATION_JSON, (0.0, -1, 0)
    for media_type in _SUPPORTED:
        preference = _preference(media_type, ranges)
        if preference[0] > 0 and preference > chosen_preference:
            chosen, chosen_preference = media_type, preference
    return chosen


def request_error_status(data: object, errors: Sequence[GraphQLError] | None) -> int | None:
    """The status of a result that never reached execution, or None if it did.

    A result without data whose errors have no path failed before any resolver ran: the
    document did not parse or validate, or the variables did not coerce (client errors, 400),
    or something unexpected broke first (500).

    Args:
        data: The result's data.
        errors: The result's errors, after error processing (with their codes).
    """
    if data is not None or not errors or any(error.path is not None for error in errors):
        return None
    codes = {(error.extensions or {}).get("code") for error in errors}
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400


def refusal(message: str) -> dict[str, object]:
    """The GraphQL error body of a request refused before GraphQL work."""
    return {"errors": [{"message": message, "extensions": {"code": REFUSAL_CODE}}]}
