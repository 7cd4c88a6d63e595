"""Imports run one way: api -> services -> repositories -> models, with lib and core below.

Read from the source with `ast`, so a rule broken anywhere (even in a module no test imports)
fails here:
- `src/core` imports nothing of `src` but itself; `src/lib` imports no `src.api`.
- Neither imports a web or GraphQL framework (fastapi, starlette, strawberry).
- Services (the rules of each feature) import no framework and, of the API, only the runtime
  and other services.
- `src/api/common` imports no feature.
- `src/cli` (the command line) imports no framework and, of the API, only services; nothing in
  `src` imports it (main.py runs it).
- No import cycle between the modules of `src`.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("fastapi", "starlette", "strawberry")
SERVICES = ("service", "entitlements", "watch", "requests", "operators")
API_MODULES_FOR_SERVICES = ("src.api.runtime",)
FEATURES = ("src.api.auth", "src.api.chats", "src.api.messages", "src.api.search", "src.api.stream")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, absolute (the project uses no relative imports)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of `src` it imports."""
    files = {_module_name(path): path for path in (ROOT / "src").rglob("*.py")}
    return {
        module: {name for name in _imports(path) if name in files and name != module}
        for module, path in files.items()
    }


GRAPH = _graph()


def _within(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def _is_service(module: str) -> bool:
    return module.startswith("src.api.") and module.rsplit(".", 1)[-1] in SERVICES


def _offending(module: str, *forbidden: str) -> list[str]:
    path = ROOT / Path(*module.split("."))
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return sorted({name for name in _imports(file) if _within(name, *forbidden)})


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _within(m, "src.core")))
def test_core_imports_nothing_above_it(module: str) -> None:
    above = [name for name in GRAPH[module] if not _within(name, "src.core")]
    assert above == [] and _offending(module, *FRAMEWORKS) == []


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _within(m, "src.lib")))
def test_lib_imports_no_api_and_no_framework(module: str) -> None:
    assert _offending(module, "src.api", *FRAMEWORKS) == []


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _is_service(m)))
def test_services_import_no_framework_and_no_graphql_layer(module: str) -> None:
    api = [
        name
        for name in GRAPH[module]
        if _within(name, "src.api")
        and name not in API_MODULES_FOR_SERVICES
        and not _is_service(name)
    ]
    assert api == [] and _offending(module, *FRAMEWORKS) == []


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _within(m, "src.api.common")))
def test_common_imports_no_feature(module: str) -> None:
    assert _offending(module, *FEATURES) == []


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _within(m, "src.cli")))
def test_cli_imports_no_framework_and_of_the_api_only_services(module: str) -> None:
    api = [name for name in GRAPH[module] if _within(name, "src.api") and not _is_service(name)]
    assert api == [] and _offending(module, *FRAMEWORKS) == []


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if not _within(m, "src.cli")))
def test_nothing_in_src_imports_the_cli(module: str) -> None:
    assert _offending(module, "src.cli") == []


def test_no_import_cycle() -> None:
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for imported in sorted(GRAPH[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_the_rules_see_the_code() -> None:
    """The graph is read from the source: a rule over an empty set would prove nothing."""
    assert "src.api.stream.service" in GRAPH
    assert "src.lib.db.repositories.message" in GRAPH["src.api.stream.service"]
    assert sum(map(_is_service, GRAPH)) >= 6
    assert "src.api.auth.operators" in GRAPH["src.cli.admin"]
