r"""Validation with a bounded cost, cached: the limits first, then graphql-core's rules.

graphql-core's OverlappingFieldsCanBeMerged compares every pair of selections that share a
response name, recursively: 400 copies of `me { id }` (2.8 KB) cost a second of event loop,
and distinct fragments selecting the same field cost as much. So:

1. `measure` (src/api/limits.py) refuses too deep, too wide or too aliased documents in one
   cheap walk;
2. the other rules run on the document as sent;
3. OverlappingFieldsCanBeMerged runs on its merged view (`merged_view`): fragment spreads
   inlined, and identical selections of one selection set kept once, which changes no
   conflict; a response name selected in more than MAX_VARIANTS different ways in one
   selection set is refused instead of compared pair by pair.

Offers `BoundedValidation`, the schema extension (it replaces Strawberry's ValidationCache),
and `validate_bounded`, what it runs; and `UnicodeVariables`, the extension refusing variables
whose text is not valid Unicode (a lone surrogate such as "\ud800", which JSON can carry but
UTF-8 cannot): BAD_USER_INPUT naming the variable's path as `field`, before any resolver runs,
so nothing is saved. (The document itself cannot carry one: graphql-core's lexer refuses it.)
"""

from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionNode,
    SelectionSetNode,
    print_ast,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from src.api.limits import measure

MAX_VARIANTS = 4
CACHE_SIZE = 256


class _TooManyVariants(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.error = GraphQLError(
            f"'{name}' is selected in more than {MAX_VARIANTS} different ways in one selection set."
        )


def _head(field: FieldNode) -> str:
    arguments = ",".join(print_ast(argument) for argument in field.arguments or ())
    directives = " ".join(print_ast(directive) for directive in field.directives or ())
    alias = field.alias.value if field.alias else ""
    return f"{alias}:{field.name.value}({arguments}){directives}"


class _Merger:
    """Builds the merged view of selection sets; each fragment is merged once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.merged: dict[str, tuple[SelectionSetNode, str, dict[str, set[str]]]] = {}

    def selection_set(
        self, node: SelectionSetNode
    ) -> tuple[SelectionSetNode, str, dict[str, set[str]]]:
        """The merged set, its canonical key, and each response name's variants in it."""
        kept: dict[str, SelectionNode] = {}
        variants: dict[str, set[str]] = {}
        for selection in node.selections:
            for key, merged, inner in self._selection(selection):
                kept.setdefault(key, merged)
                for name, keys in inner.items():
                    variants.setdefault(name, set()).update(keys)
                    if len(variants[name]) > MAX_VARIANTS:
                        raise _TooManyVariants(name)
        key = "{" + " ".join(sorted(kept)) + "}"
        return replace(node, selections=tuple(kept.values())), key, variants

    def _selection(
        self, selection: SelectionNode
    ) -> Iterator[tuple[str, SelectionNode, dict[str, set[str]]]]:
        if isinstance(selection, FieldNode):
            key = _head(selection)
            if selection.selection_set is not None:
                merged_set, inner_key, _ = self.selection_set(selection.selection_set)
                key += inner_key
                selection = replace(selection, selection_set=merged_set)
            name = selection.alias.value if selection.alias else selection.name.value
            yield key, selection, {name: {key}}
        elif isinstance(selection, InlineFragmentNode):
            merged_set, inner_key, variants = self.selection_set(selection.selection_set)
            condition = print_ast(selection.type_condition) if selection.type_condition else ""
            directives = " ".join(print_ast(d) for d in selection.directives or ())
            key = f"...{condition}{directives}{inner_key}"
            yield key, replace(selection, selection_set=merged_set), variants
        elif isinstance(selection, FragmentSpreadNode):
            yield from self._spread(selection)

    def _spread(
        self, spread: FragmentSpreadNode
    ) -> Iterator[tuple[str, SelectionNode, dict[str, set[str]]]]:
        name = spread.name.value
        fragment = self.fragments.get(name)
        if fragment is None:
            return  # reported by the other rules, which run first
        if name not in self.merged:
            self.merged[name] = self.selection_set(fragment.selection_set)
        merged_set, inner_key, variants = self.merged[name]
        inline = InlineFragmentNode(
            type_condition=fragment.type_condition,
            directives=spread.directives,
            selection_set=merged_set,
            loc=spread.loc,
        )
        directives = " ".join(print_ast(d) for d in spread.directives or ())
        yield f"...{fragment.type_condition.name.value}{directives}{inner_key}", inline, variants


def merged_view(document: DocumentNode) -> DocumentNode:
    """The document's operations with fragments inlined and identical selections kept once.

    Raises:
        _TooManyVariants: A response name is selected in too many different ways.
    """
    merger = _Merger(document)
    operations = tuple(
        replace(d, selection_set=merger.selection_set(d.selection_set)[0])
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    return replace(document, definitions=operations)


@lru_cache(maxsize=CACHE_SIZE)
def validate_bounded(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """The document's validation errors, at a cost bounded by the limits (see the module)."""
    errors = measure(document)
    if errors:
        return errors
    others = tuple(rule for rule in rules if rule is not OverlappingFieldsCanBeMergedRule)
    errors = validate_document(schema, document, others)
    if errors or len(others) == len(rules):
        return errors
    try:
        merged = merged_view(document)
    except _TooManyVariants as too_many:
        return [too_many.error]
    return validate(schema, merged, [OverlappingFieldsCanBeMergedRule])


class BoundedValidation(SchemaExtension):
    """Validates with `validate_bounded`, its results cached across requests."""

    def on_validate(self) -> Iterator[None]:
        """Set the operation's validation errors before Strawberry would validate."""
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = validate_bounded(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield


def _bad_text(value: Any, path: str) -> str | None:
    """The path of the first text in a variable's value that is not valid Unicode, or None."""
    if isinstance(value, str):
        return path if not value.isascii() and not _encodes(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _bad_text(key, path) or _bad_text(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _bad_text(item, f"{path}.{index}")
            if found:
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class UnicodeVariables(SchemaExtension):
    """Refuses an operation whose variables hold text that is not valid Unicode."""

    def on_validate(self) -> Iterator[None]:
        """Add a BAD_USER_INPUT error when the document itself is valid."""
        context = self.execution_context
        variables = context.variables or {}
        if not context.pre_execution_errors:
            field = next(
                (found for name in variables if (found := _bad_text(variables[name], name))),
                None,
            )
            if field is None and _bad_text(list(variables), "variables"):
                field = "variables"
            if field:
                message = "Text must be valid Unicode (it holds a lone surrogate)."
                extensions = {"code": "BAD_USER_INPUT", "field": field}
                context.pre_execution_errors = [GraphQLError(message, extensions=extensions)]
        yield
