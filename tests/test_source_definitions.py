"""No module or class defines the same function or class name twice in its own body.

Python keeps the last definition without a word, and linting does not flag a redefinition when
the first is referenced: a faster version of a function, written above an older copy left
below it, never runs (it happened in regimen/rules/interaction_edges.py). Overloads and property
accessors (``@x.setter``) are the legitimate repeats and are allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "regimen",
    "interactions",
    "dosing",
    "fhir",
    "server",
    "client",
    "review",
    "bench",
    "tools",
)


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def _allowed_repeat(node: ast.stmt) -> bool:
    for decorator in getattr(node, "decorator_list", ()):
        if isinstance(decorator, ast.Name) and decorator.id == "overload":
            return True
        if isinstance(decorator, ast.Attribute) and decorator.attr in (
            "setter",
            "deleter",
            "overload",
        ):
            return True
    return False


def _repeats(body: list[ast.stmt], scope: str) -> list[str]:
    seen: dict[str, int] = {}
    found = []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name in seen and not _allowed_repeat(node):
                found.append(f"{scope}{node.name}: lines {seen[node.name]} and {node.lineno}")
            seen.setdefault(node.name, node.lineno)
            if isinstance(node, ast.ClassDef):
                found.extend(_repeats(node.body, f"{scope}{node.name}."))
    return found


def test_the_scan_finds_a_repeated_definition() -> None:
    module = ast.parse(
        "def f():\n    return 1\n\n\ndef g():\n    return f()\n\n\ndef f():\n    return 2\n"
    )
    assert _repeats(module.body, "") == ["f: lines 1 and 9"]
    accessors = (
        "class C:\n    @property\n    def x(self): ...\n    @x.setter\n    def x(self, v): ...\n"
    )
    assert _repeats(ast.parse(accessors).body, "") == []


def test_no_name_is_defined_twice() -> None:
    repeats = []
    for path in _sources():
        module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = f"{path.relative_to(ROOT)}: "
        repeats.extend(where + repeat for repeat in _repeats(module.body, ""))
    assert len(_sources()) > 100  # the packages were found
    assert repeats == []
