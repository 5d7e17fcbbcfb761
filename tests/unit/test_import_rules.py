"""The layer rules of docs/architecture.md, read from the source with `ast` (nothing is imported).

Every import counts, lazy ones inside functions included: a rule is about what a layer may depend on,
not about start-up time. bench/ importing nothing of tests/ is checked in tests/spine/test_policy.py.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rule:
    """The modules under `folder` import no module named by, or inside, any of `forbidden`."""

    folder: str
    forbidden: tuple[str, ...]
    why: str
    front_ends: tuple[str, ...] = ()  # files under `folder` that are front ends themselves


RULES = [
    Rule(
        "eventstore",
        ("a3cp", "web", "projections", "bench", "tests"),
        "the recorder is a library: it knows no layout, event or rule of ours",
    ),
    Rule(
        "a3cp/domain",
        (
            "web",
            "projections",
            "eventstore",
            "bench",
            "tests",
            "a3cp.services",
            "a3cp.capture",
            "a3cp.bootstrap",
        ),
        "the domain decides; it reads no log, file or request and knows no transport",
    ),
    Rule(
        "a3cp/recognition",
        ("web", "projections", "eventstore", "bench", "tests", "a3cp.services", "a3cp.bootstrap"),
        "the recognizer is pure: features in, a label or 'not sure' out",
    ),
    Rule(
        "projections",
        ("web", "bench", "tests", "a3cp.services", "a3cp.bootstrap"),
        "the read model is derived from the logs; the services above it use it, not the reverse",
    ),
    Rule(
        "a3cp",
        ("web", "bench", "tests"),
        "the core serves every front end: web, CLI and bench",
        front_ends=("a3cp/cli.py",),  # the CLI: `a3cp serve` starts the web front end with its limits
    ),
]


def imported_modules(source: str, package: str) -> set[str]:
    """Dotted names of every module `source` imports, relative imports resolved against `package` (the
    package the file lives in); `from x import y` counts as importing x and x.y (y may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def breaches(source: str, package: str, forbidden: tuple[str, ...]) -> list[str]:
    """The imports of `source` that fall inside a forbidden module."""
    return sorted(
        name
        for name in imported_modules(source, package)
        if any(name == banned or name.startswith(banned + ".") for banned in forbidden)
    )


def package_of(path: Path) -> str:
    """The dotted name of the package a module file lives in."""
    return ".".join(path.relative_to(REPO).parent.parts)


@pytest.mark.parametrize("rule", RULES, ids=[rule.folder for rule in RULES])
def test_layer_imports(rule: Rule) -> None:
    modules = sorted((REPO / rule.folder).rglob("*.py"))
    assert modules, rule.folder
    broken = {
        str(path.relative_to(REPO)): found
        for path in modules
        if str(path.relative_to(REPO)) not in rule.front_ends
        and (found := breaches(path.read_text(encoding="utf-8"), package_of(path), rule.forbidden))
    }
    assert broken == {}, rule.why


def test_rule_check_catches_every_import_form() -> None:
    source = (
        "import web.app\n"
        "from projections.store import Projection\n"
        "def lazy():\n    from a3cp import services\n"
        "from ..capture import pipeline\n"
        "from .. import bootstrap\n"
        "from ..servicesx import anything\n"  # a name that merely starts like a forbidden one is fine
        "import a3cp.config\n"
    )
    forbidden = ("web", "projections", "a3cp.services", "a3cp.capture", "a3cp.bootstrap")
    assert breaches(source, "a3cp.domain", forbidden) == [
        "a3cp.bootstrap",
        "a3cp.capture",
        "a3cp.capture.pipeline",
        "a3cp.services",
        "projections.store",
        "projections.store.Projection",
        "web.app",
    ]
