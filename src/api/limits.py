"""Limits on GraphQL documents, checked during (cached) validation before any resolver runs.

OWASP GraphQL cheat sheet: depth (G5), aliases (G6, fragments included), directives (G9);
the token limit (G8, G17) is applied at parse time by `MaxTokensLimiter` in the schema.
"""

from typing import Any

from graphql import ASTValidationRule, DirectiveNode, GraphQLError, ValidationContext
from strawberry.extensions import AddValidationRules, max_aliases, query_depth_limiter

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_DIRECTIVES = 50
MAX_TOKENS = 2000


class MaxDirectivesRule(ASTValidationRule):
    """Refuses documents with more than MAX_DIRECTIVES directives, with a single error."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        """Count a directive; report once when the limit is passed."""
        self.count += 1
        if self.count == MAX_DIRECTIVES + 1:
            self.report_error(
                GraphQLError(f"The document uses more than {MAX_DIRECTIVES} directives.", node)
            )


# Built once: Strawberry's limiter extensions make new rule classes per operation, which
# defeats ValidationCache (the rules are part of its key) and costs ~1 ms of validation per
# operation.
_RULES: list[type[ASTValidationRule]] = [
    query_depth_limiter.create_validator(MAX_DEPTH, should_ignore=None),
    max_aliases.create_validator(MAX_ALIASES),
    MaxDirectivesRule,
]


class QueryLimits(AddValidationRules):
    """Depth, alias and directive limits, as one schema extension."""

    def __init__(self) -> None:
        super().__init__(_RULES)
