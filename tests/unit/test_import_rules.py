"""The layer rules, read from the source: the recorder imports nothing of the project, and the domain
imports nothing of the web layer, the projection or the recorder (docs/eventstore.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def imported_packages(path: Path) -> set[str]:
    """Top-level package names of every absolute import in a module (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


RULES = [
    ("eventstore", {"a3cp", "web", "projections", "bench", "tests"}),
    ("a3cp/domain", {"web", "projections", "eventstore", "bench", "tests"}),
]


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[folder for folder, _ in RULES])
def test_layer_imports(folder: str, forbidden: set[str]) -> None:
    modules = sorted((REPO / folder).rglob("*.py"))
    assert modules, folder
    broken = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & forbidden)
        for path in modules
        if imported_packages(path) & forbidden
    }
    assert broken == {}
