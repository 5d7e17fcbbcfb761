"""Consent is enforced by default (docs/privacy.md): only A3CP_CONSENT_REQUIRED=0 turns it off, and
`a3cp serve` then says so; a first run's setup link comes with the steps up to a capture, consent
included (README, "Accounts and the first run")."""

from __future__ import annotations

from pathlib import Path

import pytest

from a3cp.accounts.cli import prepare_serve
from a3cp.cli import build_parser
from a3cp.config import Settings

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(("value", "enforced"), [(None, True), ("1", True), ("0", False), ("false", True)])
def test_only_zero_turns_enforcement_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, enforced: bool
) -> None:
    if value is None:
        monkeypatch.delenv("A3CP_CONSENT_REQUIRED", raising=False)
    else:
        monkeypatch.setenv("A3CP_CONSENT_REQUIRED", value)
    assert Settings.from_env().consent_required is enforced


def _serve_output(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root: Path) -> str:
    monkeypatch.setenv("DATA_ROOT", str(root / "data"))
    monkeypatch.setenv("LOG_ROOT", str(root / "logs"))
    args = build_parser().parse_args(["serve", "--host", "127.0.0.1", "--port", "8000"])  # as `a3cp serve`
    assert prepare_serve(args) == {}
    return capsys.readouterr().out


def test_a_first_run_prints_the_steps_with_consent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("A3CP_CONSENT_REQUIRED", raising=False)
    printed = _serve_output(monkeypatch, capsys, tmp_path)
    assert "http://127.0.0.1:8000/setup/" in printed
    assert "records the person's consent" in printed and "NOT enforced" not in printed


def test_serving_without_enforcement_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("A3CP_CONSENT_REQUIRED", "0")
    assert "Consent is NOT enforced (A3CP_CONSENT_REQUIRED=0)" in _serve_output(monkeypatch, capsys, tmp_path)
