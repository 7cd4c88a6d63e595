"""Limits on GraphQL documents, checked before graphql-core's validation rules run.

OWASP GraphQL cheat sheet: depth (G5), aliases (G6, fragments included), directives (G9),
tokens (G8, G17, at parse time).

Offers:
- `measure(document)`: one walk of the document (each fragment walked once, so nested spreads
  cost nothing exponential) refusing it when an operation is too deep, or when its selections
  (as written, or fragments expanded) or aliases are too many. Introspection fields count
  towards depth: an introspection path may go MAX_INTROSPECTION_DEPTH deep (the standard
  introspection query needs 14), any other path MAX_DEPTH.
- `QueryLimits`, the schema extension: the token limit (MAX_TOKENS) for the parser, and
  `MaxDirectivesRule` for validation; `QueryLimitsWithoutIntrospection` refuses introspection
  too (production).
"""

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)
from strawberry.extensions import SchemaExtension

MAX_DEPTH = 10
MAX_INTROSPECTION_DEPTH = 15
MAX_ALIASES = 15
MAX_DIRECTIVES = 50
MAX_TOKENS = 2000
MAX_SELECTIONS = 200
MAX_EXPANDED_SELECTIONS = 1000


class _TooLarge(Exception):
    """The document passed the field or alias limit (the walk stops there)."""


class _Walk:
    """Measures selection sets: (depth without introspection fields, depth with them).

    A leaf field is 0 deep, as in Strawberry's depth limiter. Selections (fields, fragment
    spreads, inline fragments) are counted as written and as executed (fragments expanded),
    aliases as executed; the walk stops past any limit.
    """

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.depths: dict[str, tuple[int, int]] = {}
        self.counts: dict[str, tuple[int, int]] = {}
        self.entered: set[str] = set()
        self.selections = 0
        self.expanded = 0
        self.aliases = 0

    def selection_set(self, node: SelectionSetNode | None) -> tuple[int, int]:
        depth = depth_all = 0
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                inner, inner_all = self.field(selection)
            elif isinstance(selection, InlineFragmentNode):
                self.count(1, 1, 0)
                inner, inner_all = self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                self.count(1, 1, 0)
                inner, inner_all = self.fragment(selection.name.value)
            depth, depth_all = max(depth, inner), max(depth_all, inner_all)
        return depth, depth_all

    def field(self, node: FieldNode) -> tuple[int, int]:
        self.count(1, 1, 1 if node.alias else 0)
        if node.selection_set is None:
            return 0, 0
        inner, inner_all = self.selection_set(node.selection_set)
        return (0 if node.name.value.startswith("__") else inner + 1), inner_all + 1

    def fragment(self, name: str) -> tuple[int, int]:
        if name in self.depths:
            self.count(0, *self.counts[name])  # the same selections again, not walked again
            return self.depths[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.entered:
            return 0, 0  # unknown or cyclic: graphql-core's rules report it
        self.entered.add(name)
        expanded, aliases = self.expanded, self.aliases
        self.depths[name] = self.selection_set(fragment.selection_set)
        self.counts[name] = (self.expanded - expanded, self.aliases - aliases)
        return self.depths[name]

    def count(self, selections: int, expanded: int, aliases: int) -> None:
        self.selections += selections
        self.expanded += expanded
        self.aliases += aliases
        if (
            self.selections > MAX_SELECTIONS
            or self.expanded > MAX_EXPANDED_SELECTIONS
            or self.aliases > MAX_ALIASES
        ):
            raise _TooLarge


def measure(document: DocumentNode) -> list[GraphQLError]:
    """The document's errors against the depth, selection and alias limits (none when within).

    Costs one walk of at most MAX_SELECTIONS selections, whatever the fragments: each is walked
    once. Fragments no operation spreads are walked too (validation visits them).
    MAX_SELECTIONS bounds the cost of graphql-core's rules, which visit every node;
    MAX_EXPANDED_SELECTIONS bounds fragment bombs (spreads that double at every level).
    """
    walk = _Walk(document)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                depth, depth_all = walk.selection_set(definition.selection_set)
                if depth > MAX_DEPTH or depth_all > MAX_INTROSPECTION_DEPTH:
                    name = definition.name.value if definition.name else "anonymous"
                    limit = MAX_DEPTH if depth > MAX_DEPTH else MAX_INTROSPECTION_DEPTH
                    message = f"'{name}' exceeds maximum operation depth of {limit}"
                    return [GraphQLError(message, definition)]
        for name in walk.fragments.keys() - walk.depths.keys():
            walk.fragment(name)
    except _TooLarge:
        if walk.aliases > MAX_ALIASES:
            return [GraphQLError(f"More than {MAX_ALIASES} aliases found.")]
        if walk.selections > MAX_SELECTIONS:
            return [GraphQLError(f"The document has more than {MAX_SELECTIONS} selections.")]
        message = f"The document has more than {MAX_EXPANDED_SELECTIONS} selections once its "
        return [GraphQLError(message + "fragments are expanded.")]
    return []


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


class QueryLimits(SchemaExtension):
    """The token and directive limits, as a schema extension (the others are `measure`'s).

    Each is set by the hook of its own step, which ends with the step: an `on_operation` hook
    would stay suspended for as long as a subscription runs. It must come before the
    extensions that parse (the document cache) or validate in the schema's list.
    """

    # The same rule classes for every operation: they are part of the validation cache's key.
    RULES: ClassVar[tuple[type[ASTValidationRule], ...]] = (MaxDirectivesRule,)

    def on_parse(self) -> Iterator[None]:
        """Refuse documents of more than MAX_TOKENS tokens when parsing them."""
        self.execution_context.parse_options["max_tokens"] = MAX_TOKENS
        yield

    def on_validate(self) -> Iterator[None]:
        """Add the extension's rules to the validation rules."""
        context = self.execution_context
        context.validation_rules = _with(context.validation_rules, self.RULES)
        yield


class QueryLimitsWithoutIntrospection(QueryLimits):
    """QueryLimits, and introspection refused (as Strawberry's DisableIntrospection does).

    DisableIntrospection adds its rule in an `on_operation` hook, held for a subscription's life.
    """

    RULES = (MaxDirectivesRule, NoSchemaIntrospectionCustomRule)


@lru_cache(maxsize=8)
def _with(
    rules: tuple[type[ASTValidationRule], ...], more: tuple[type[ASTValidationRule], ...]
) -> tuple[type[ASTValidationRule], ...]:
    """`rules` and `more`: one tuple for every operation, not a copy kept by each."""
    return (*rules, *more)
