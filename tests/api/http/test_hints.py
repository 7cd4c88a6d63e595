"""No "Did you mean" hints, whatever the wording (issue 11, item 13; checklist G4).

graphql-core suggests schema names in validation and variable errors; a hint inside a message
("... Did you mean 'title'? Found: {titel: "x"}.") went through.
"""

from typing import Any

import pytest

from tests.helpers import GraphQLClient

UPDATE = 'mutation U($input: UpdateChatInput!) { updateChat(id: "x", input: $input) { id } }'


@pytest.mark.parametrize(
    ("query", "variables", "named"),
    [
        (UPDATE, {"input": {"titel": "x"}}, "titel"),
        (UPDATE, {"input": {"visibility": "PUBLC"}}, "PUBLC"),
        ('mutation { updateChat(id: "x", input: {titel: "x"}) { id } }', None, "titel"),
        ('mutation { updateChat(id: "x", input: {visibility: PUBLC}) { id } }', None, "PUBLC"),
        ('{ chat(idd: "x") { id } }', None, "idd"),
        ("{ chatz { id } }", None, "chatz"),
        ("query Q($x: Chatt) { me { id } }", None, "Chatt"),
        ('{ node(id: "x") { ... on Chatt { id } } }', None, "Chatt"),
        ("{ me { ... on Chat { id } } }", None, "Chat"),
    ],
)
async def test_errors_name_the_mistake_but_suggest_nothing(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None, named: str
) -> None:
    errors = (await client.post(query, variables))["errors"]
    messages = " ".join(error["message"] for error in errors)
    assert named in messages
    assert "did you mean" not in messages.lower()
    assert "?" not in messages.replace(named, "")
