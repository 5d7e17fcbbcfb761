"""Shared fixtures: an isolated DATA_ROOT/LOG_ROOT per test and an app client on it, logged in as the
fixture carer `carer01` (tests/fixtures/accounts.py: its token, and a grant for each user it touches).

With CI=true a skipped test fails the run: in CI nothing may be skipped for lack of a tool.
`make test-fast` runs the tests marked `fast`: all of tests/unit/, and the modules (`pytestmark =
pytest.mark.fast`) and tests (`@pytest.mark.fast`) that need no MediaPipe, browser, server process or
PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.reliability_report import (  # noqa: F401 (fixture and hooks for every test)
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_testnodedown,
    reliability_report,
)
from web.app import create_app

UNIT_TESTS = Path(__file__).resolve().parent / "unit"
# Suites written before consent was recorded capture for users without any (docs/privacy.md): they run
# with consent not enforced, here and in the server processes they start; tests/consent/ enforces it.
os.environ.setdefault("A3CP_CONSENT_REQUIRED", "0")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fast: no MediaPipe, browser, server process or PostgreSQL (`make test-fast` runs these)"
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m fast`, a test module that marks nothing fast is not even imported: MediaPipe,
    Playwright and schemathesis stay unloaded, which is most of the fast run's start-up."""
    is_test_module = collection_path.suffix == ".py" and collection_path.name.startswith("test_")
    if config.getoption("markexpr") != "fast" or not is_test_module or UNIT_TESTS in collection_path.parents:
        return None
    return "pytest.mark.fast" not in collection_path.read_text(encoding="utf-8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/unit/ is fast by where it lives."""
    for item in items:
        if UNIT_TESTS in item.path.parents:
            item.add_marker(pytest.mark.fast)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_root=tmp_path / "data",
        log_root=tmp_path / "logs",
        db_url=f"sqlite:///{tmp_path / 'projection.sqlite3'}",
        consent_required=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app on `settings` (a folder's conftest may override `settings`: PostgreSQL, short timeouts),
    authenticated as `carer01`."""
    app = create_app(settings)
    with signed_in_client(app) as test_client:
        yield test_client
    app.state.services.projection.engine.dispose()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true, turn a skip into a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true forbids skips): {report.longrepr}"
