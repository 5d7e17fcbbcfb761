"""Source-tree policies: routes take their models from `a3cp.schemas` only; only eventstore/ writes logs."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from types import ModuleType

import pytest
from log_writes import violations
from pydantic import BaseModel

import a3cp.schemas
import web.routes

pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "node_modules", "build", "dist", "eventstore", "tests"}  # tests may write logs
ROUTE_FILES = sorted(Path(web.routes.__file__).parent.glob("*.py"))


def production_sources() -> list[Path]:
    """Every .py of the project outside eventstore/ and tests/ (and outside virtualenvs, caches)."""
    return sorted(
        path
        for path in REPO.rglob("*.py")
        if not any(
            part in SKIPPED_DIRS or part.startswith(".") or part.endswith(".egg-info")
            for part in path.relative_to(REPO).parts[:-1]
        )
    )


def route_module_problems(source: str, module: ModuleType) -> list[str]:
    """Why a routes module (its source and the imported module) breaks the import policy."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if origin.startswith("a3cp.schemas."):
                problems.append(f"imports from {origin}; use a3cp.schemas")
            if origin == "pydantic" and any(a.name == "create_model" for a in node.names):
                problems.append("imports pydantic.create_model; models belong in a3cp.schemas")
            for alias in node.names:
                value = getattr(module, alias.asname or alias.name, None)
                is_model = inspect.isclass(value) and issubclass(value, BaseModel)
                if origin == "a3cp.schemas" and alias.name not in a3cp.schemas.__all__:
                    problems.append(f"{alias.name} is not exported by a3cp.schemas")
                elif is_model and origin != "a3cp.schemas":
                    problems.append(f"model {alias.name} imported from {origin}")
        elif isinstance(node, ast.Import):
            problems += [f"imports {a.name}" for a in node.names if a.name.startswith("a3cp.schemas.")]
        elif isinstance(node, ast.ClassDef):
            value = getattr(module, node.name, None)
            if inspect.isclass(value) and issubclass(value, BaseModel):
                problems.append(f"defines model {node.name}; put it in a3cp.schemas")
    for op in getattr(module, "operations", []):
        for model in [op.request_model, *op.responses.values()]:
            if model is not None and getattr(a3cp.schemas, model.__name__, None) is not model:
                problems.append(f"operation {op.path} uses {model.__name__}, not from a3cp.schemas")
    return problems


@pytest.mark.parametrize("path", ROUTE_FILES, ids=lambda p: p.name)
def test_routes_take_models_from_a3cp_schemas_only(path: Path) -> None:
    module = importlib.import_module(f"web.routes.{path.stem}") if path.stem != "__init__" else web.routes
    assert route_module_problems(path.read_text(), module) == []


def test_import_policy_catches_breaches() -> None:
    source = (
        "from a3cp.schemas.base import Envelope\n"
        "from a3cp.schemas import base\n"
        "from pydantic import BaseModel, ValidationError\n"
        "import a3cp.schemas.errors\n"
        "class X(BaseModel):\n    a: int\n"
    )
    module = ModuleType("probe")
    exec(compile(source, "probe", "exec"), module.__dict__)
    problems = route_module_problems(source, module)
    breaches = (
        "from a3cp.schemas.base",
        "base is not exported",
        "BaseModel",
        "a3cp.schemas.errors",
        "model X",
    )
    for expected in breaches:
        assert any(expected in problem for problem in problems), (expected, problems)
    assert not any("ValidationError" in problem for problem in problems), "exceptions are not models"


def test_no_module_outside_eventstore_writes_session_logs() -> None:
    sources = production_sources()
    assert any(p.parts[-2:] == ("services", "session_log.py") for p in sources), "scan sees the services"
    found = {str(p.relative_to(REPO)): violations(p.read_text()) for p in sources}
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_no_other_source_file_mentions_the_log_suffix() -> None:
    """Templates, scripts and styles under a3cp/, web/, projections/ do not name log files either."""
    files = [p for top in ("a3cp", "web", "projections") for p in (REPO / top).rglob("*") if p.is_file()]
    assert files, "nothing scanned"
    assert [str(p) for p in files if p.suffix != ".pyc" and b".jsonl" in p.read_bytes().lower()] == []


def imported_modules(source: str) -> set[str]:
    """Every module a source file imports (`import a.b`, `from a.b import c`; relative ones left out)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_bench_imports_nothing_of_the_tests() -> None:
    """The tests may use bench/'s helpers (bench.client, bench.person, bench.processes), never the reverse."""
    sources = sorted((REPO / "bench").rglob("*.py"))
    assert any(p.name == "client.py" for p in sources), "scan sees bench/"
    found = {}
    for path in sources:
        if tests := sorted(m for m in imported_modules(path.read_text()) if m.partition(".")[0] == "tests"):
            found[str(path.relative_to(REPO))] = tests
    assert found == {}


def test_the_recorder_itself_would_be_flagged() -> None:
    """The scan is not vacuous: the one legitimate writer breaks its rules."""
    eventstore = REPO / "eventstore"
    assert violations((eventstore / "format.py").read_text())
    assert violations((eventstore / "recorder.py").read_text())


@pytest.mark.parametrize(
    "source",
    [
        'NAME = "s1.jsonl"',
        "import os\nfd = os.open(p, os.O_WRONLY | os.O_APPEND)",
        'with open(anything, "ab") as f:\n    pass',
        'from pathlib import Path\nPath(x).open(mode="a")',
        'p = session_log_path(s, u, sid)\nwith open(p, "wb") as f:\n    f.write(b"x")',
        "p = settings.log_root / 'users'\nq = p / 'u'\nq.write_text('x')",
        'import os\nroot = os.environ["LOG_ROOT"]\nf = open(root + "/x", mode)',
        "import os\nfd = os.open(session_log_path(s, u, i), os.O_RDWR)",
        "import shutil\nshutil.copy(src, sessions_log_dir(s, u))",
        "import os\nfor p in iter_session_logs(s):\n    os.remove(p)",
        "p = session_log_path(s, u, i)\np.touch()",
    ],
)
def test_scan_flags_log_writes(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "p = session_log_path(s, u, i)\nevents = read_log(p).events\ntext = open(p).read()",
        'p = session_log_path(s, u, i)\nwith open(p, "rb") as f:\n    f.read()',
        "import os\nfd = os.open(settings.log_root, os.O_RDONLY)",
        'd = session_features_dir(s, u, i, create=True)\n(d / "x.npz").write_bytes(b"")',
        'with open(report, "w") as f:\n    f.write("ok")',
        "settings.log_root.mkdir(parents=True, exist_ok=True)",
    ],
)
def test_scan_accepts_reads_and_other_writes(source: str) -> None:
    assert violations(source) == []
