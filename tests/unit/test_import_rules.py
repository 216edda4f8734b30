"""Import rules, read from the source with `ast` (nothing is imported).

- no import cycles in domain/, modals/ or emulators/ (imports under `if TYPE_CHECKING:` do not
  run, so they cannot make a cycle and are left out of that check);
- a domain concept imports only concepts of lower or equal rank (RANK below);
- domain/ never imports Slack libraries nor the layers above it (handlers, modals, bot);
- handlers/ never import storage/ (they go through domain/);
- no imports inside functions, except the CLI's lazy ones (bot/cli.py), the optional integration
  adapters (bot/adapters.py: their libraries are imported only when configured) and the tests;
- no private (`_name`) names imported from another module of the project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "domain", "handlers", "jobs", "modals", "emulators", "storage", "bench")
GENERATED = ("storage/migrations/versions/",)
LAZY_IMPORTS_ALLOWED = ("bot/cli.py", "bot/adapters.py")

# Lower may not import higher; concepts on one line share a rank.
RANK_ORDER = [
    ("config", "core"),
    ("contacts",),
    ("timeline",),
    ("participants",),
    ("incidents",),
    ("tasks", "feedback", "announcements", "tickets", "documents", "paging", "email"),
    ("reports",),
    ("response",),
    ("cases",),
    ("workflows",),
    ("signals", "costs", "cost_polling", "cost_report", "custom_costs"),
]
RANK = {concept: rank for rank, concepts in enumerate(RANK_ORDER) for concept in concepts}
DOMAIN_FORBIDDEN = ("slack_bolt", "slack_sdk", "jira", "googleapiclient", "openai", "handlers", "modals", "bot")


@dataclass(frozen=True)
class Import:
    target: str  # dotted module name, resolved to a module of the project when it is one
    line: int
    type_checking: bool  # under `if TYPE_CHECKING:`
    in_function: bool
    name: str | None = None  # the name taken by `from module import name`


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(GENERATED):
                found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _resolve(module: str, name: str | None) -> str:
    """`from module import name` imports the submodule `module.name` when there is one."""
    if name is not None and f"{module}.{name}" in SOURCES:
        return f"{module}.{name}"
    return module


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports_of(module: str) -> list[Import]:
    path = SOURCES[module]
    found: list[Import] = []

    def visit(node: ast.AST, type_checking: bool, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, type_checking, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(module, path).split(".")
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            found.extend(Import(_resolve(base, alias.name), node.lineno, type_checking, in_function, alias.name)
                         for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child,
                  type_checking or (isinstance(node, ast.If) and _is_type_checking(node.test)
                                    and child in node.body),
                  in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(path.read_text(), str(path)), False, False)
    return found


IMPORTS = {module: imports_of(module) for module in SOURCES}


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _cycles(packages: tuple[str, ...]) -> list[list[str]]:
    """Every strongly connected component of more than one module (or a self-import), Tarjan's way."""
    graph = {m: sorted({i.target for i in IMPORTS[m] if not i.type_checking and i.target in SOURCES
                        and _under(i.target, packages)})
             for m in SOURCES if _under(m, packages)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def _concept(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "domain" else None


def _where(module: str, imp: Import) -> str:
    return f"{SOURCES[module].relative_to(ROOT).as_posix()}:{imp.line} imports {imp.target}"


@pytest.mark.parametrize("package", [
    "domain",
    "modals",
    "emulators",
])
def test_no_import_cycles(package):
    cycles = _cycles((package,))
    assert not cycles, "\n".join("import cycle among: " + ", ".join(c) for c in cycles)


def test_every_domain_concept_has_a_rank():
    concepts = {_concept(m) for m in SOURCES if _concept(m)}
    assert concepts - RANK.keys() == set(), "add the new concept to RANK_ORDER"


def test_domain_imports_only_lower_or_equal_ranks():
    wrong = [f"{_where(m, i)} ({_concept(m)} < {_concept(i.target)})"
             for m in SOURCES if _concept(m) for i in IMPORTS[m]
             if _concept(i.target) and RANK[_concept(i.target)] > RANK[_concept(m)]]
    assert not wrong, "\n" + "\n".join(wrong)


def test_domain_never_imports_slack_or_upper_layers():
    wrong = [_where(m, i) for m in SOURCES if _under(m, ("domain",)) for i in IMPORTS[m]
             if _under(i.target, DOMAIN_FORBIDDEN)]
    assert not wrong, "\n" + "\n".join(wrong)


def test_handlers_never_import_storage():
    wrong = [_where(m, i) for m in SOURCES if _under(m, ("handlers",)) for i in IMPORTS[m]
             if _under(i.target, ("storage",))]
    assert not wrong, "\n" + "\n".join(wrong)


def test_no_imports_inside_functions():
    allowed = {_module_name(ROOT / p) for p in LAZY_IMPORTS_ALLOWED}
    wrong = [_where(m, i) for m in SOURCES if m not in allowed for i in IMPORTS[m] if i.in_function]
    assert not wrong, "\n" + "\n".join(wrong)


def test_no_private_names_across_modules():
    wrong = [f"{_where(m, i)}.{i.name}" for m in SOURCES for i in IMPORTS[m]
             if i.name and i.name.startswith("_") and not i.name.startswith("__")
             and _under(i.target, PACKAGES) and i.target != m]
    assert not wrong, "\n" + "\n".join(wrong)
