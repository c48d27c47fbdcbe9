"""The house the apps live in: each app imports only the apps below it, and no set of
files imports each other, by any path.

Every ``.py`` of the apps is read with ``ast``: imports at module level and inside
functions alike, and dotted paths written as whole strings (a task named for
``import_string`` or Celery is a dependency too, only a hidden one)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The floors, lowest first. An app may import its own modules and the apps on the floors
# below it, never one above: sign-in knows no organization, the core nothing of routing,
# a channel nothing of the dock, and ``cxgear`` (settings, URLs, the ASGI/WSGI entry
# points, the Celery app, ``rundock``) is imported by no app.
FLOORS = {
    "accounts": 1,
    "conversations": 2,
    "presence": 3,
    "routing": 4,
    "reports": 5,
    "channels_whatsapp": 6,
    "webhooks": 6,
    "api": 7,
    "dock": 8,
    "cxgear": 9,
}
# A channel is plugged into the core and nothing else: a second channel is a sibling app
# that needs nothing of the first, nor of routing or presence.
# The event webhooks likewise hear the core's events and need nothing else.
ONLY = {"channels_whatsapp": {"conversations"}, "webhooks": {"conversations"}}

NOT_APPS = {"tests", "bench", "docs", "static", "templates", "var"}
DOTTED = re.compile(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


@cache
def modules() -> dict[str, Path]:
    """Every module of the apps, by dotted name."""
    found: dict[str, Path] = {}
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def app_of(module: str) -> str:
    return module.split(".", 1)[0]


def _known(name: str) -> str | None:
    """The most specific module of the apps that ``name`` is or lies in, if any."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules():
            return candidate
        parts.pop()
    return None


def _imported(module: str, tree: ast.AST) -> Iterator[tuple[str, int, bool]]:
    """(module imported, line, whether by a real import rather than a dotted string)."""
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name)
                if target:
                    yield target, node.lineno, True
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _known(f"{base}.{alias.name}") or _known(base)
                if target:
                    yield target, node.lineno, True
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED.fullmatch(node.value)
        ):
            # A whole string naming a module of an app below its package ("app.module" or
            # "app.module.attribute"): an event type like "presence.changed" names none.
            target = _known(node.value)
            if target and "." in target:
                yield target, node.lineno, False


@cache
def graph() -> dict[str, list[tuple[str, int, bool]]]:
    edges: dict[str, list[tuple[str, int, bool]]] = {}
    for module, path in modules().items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges[module] = sorted({e for e in _imported(module, tree) if e[0] != module})
    return edges


def test_every_package_of_the_project_has_a_floor():
    packages = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in NOT_APPS and not p.parent.name.startswith(".")
    }
    assert packages == set(FLOORS), "give each new app a floor in FLOORS (or list it in NOT_APPS)"


def test_no_app_imports_an_app_above_it():
    upward = []
    for module, edges in graph().items():
        source = app_of(module)
        for target, line, real in edges:
            dest = app_of(target)
            if dest == source:
                continue
            allowed = ONLY.get(source)
            if FLOORS[dest] > FLOORS[source] or (allowed is not None and dest not in allowed):
                how = "imports" if real else "names"
                upward.append(f"{modules()[module].relative_to(ROOT)}:{line} {how} {target}")
    assert not upward, "imports against the floors:\n" + "\n".join(sorted(upward))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one file (Tarjan), each a set of
    files that import each other through some path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_files_import_each_other_in_a_circle():
    edges = {m: {t for t, _, real in e if real} for m, e in graph().items()}
    cycles = _cycles(edges)
    assert not cycles, "files that import each other:\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_the_cycle_finder_finds_a_circle_of_three_and_a_pair():
    """The search itself must be able to fail."""
    found = _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}})
    assert found == [["a", "b", "c"], ["d", "e"]]


def test_the_image_carries_every_app():
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert set(FLOORS) <= copied
