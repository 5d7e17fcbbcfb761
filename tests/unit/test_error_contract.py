"""Every error code the server can send has a row in the one error table, with words the UI shows.

The codes are read from the source (class `code` attributes and the code argument of every raise site), so
a new code without words fails here; the served contract is checked to carry the table and the limits.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from a3cp import config
from web.error_table import ERRORS, http_status
from web.routes.contract import client_contract

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*REPO.glob("a3cp/**/*.py"), *REPO.glob("web/**/*.py"), *REPO.glob("projections/**/*.py")])
STATIC_JS = sorted((REPO / "web" / "static" / "js").glob("*.js"))

# Raise sites and the position of their code argument (a literal string there is a code sent to clients).
CODE_ARGUMENT = {
    "CaptureRejected": 0,
    "ProtocolViolation": 1,
    "RequestRejected": 1,
    "error_response": 1,
    "_abort": 0,
    "_refuse": 1,  # web/server_limits.py: answers before any request was parsed
}
STATUS_ARGUMENT = {"RequestRejected": 0, "error_response": 0, "_refuse": 0}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _literal(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def sent_codes() -> dict[str, list[str]]:
    """code -> where it is raised (file:line), for every literal code in the server's source."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            code: object = None
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in item.targets
                    ):
                        code = _literal(item.value)
                        if isinstance(code, str) and code not in ("domain_error", "fault"):  # abstract bases
                            found.setdefault(code, []).append(f"{path.relative_to(REPO)}:{item.lineno}")
                continue
            if isinstance(node, ast.Call) and _name(node) in CODE_ARGUMENT:
                position = CODE_ARGUMENT[_name(node)]
                code = _literal(node.args[position]) if len(node.args) > position else None
                if code is None:
                    code = next((_literal(k.value) for k in node.keywords if k.arg == "code"), None)
            if isinstance(code, str):
                found.setdefault(code, []).append(f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}")
    return found


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = sent_codes()
    for code in (
        "session_not_found",
        "limit_duration_exceeded",
        "frame_decode_failed",
        "payload_too_large",
        "protocol_violation",
        "projection_unavailable",
        "extractor_unavailable",
        "internal_error",
    ):
        assert code in codes, code


def test_every_code_the_server_sends_has_words_in_the_table() -> None:
    missing = {code: where for code, where in sent_codes().items() if code not in ERRORS}
    assert missing == {}, f"codes without a row (and words) in web/error_table.py: {missing}"
    assert all(kind.words.strip() for kind in ERRORS.values())


def test_every_table_row_is_a_code_the_server_sends() -> None:
    sent = set(sent_codes())
    upstream_names = {kind.ws_code for kind in ERRORS.values() if kind.ws_code}
    relayed = {"extractor_error"}  # a3cp.capture.remote's name for an extractor answer without a code
    assert set(ERRORS) - sent - upstream_names - relayed == set()


def test_statuses_written_at_raise_sites_agree_with_the_table() -> None:
    disagreements = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _name(node) in STATUS_ARGUMENT and len(node.args) > 1:
                status, code = _literal(node.args[0]), _literal(node.args[1])
                if isinstance(status, int) and isinstance(code, str) and code != "http_error":
                    if http_status(code) != status:
                        disagreements.append(f"{path.relative_to(REPO)}:{node.lineno} {code} {status}")
    assert disagreements == []


def test_the_served_contract_carries_the_table_and_the_limits() -> None:
    contract = client_contract()
    assert contract.schema_version == config.SCHEMA_VERSION
    assert contract.limits["max_capture_seconds"] == config.MAX_CAPTURE_SECONDS
    assert contract.limits["max_fps"] == config.MAX_FPS
    assert set(contract.errors) == set(ERRORS)
    assert all(entry.words == ERRORS[code].words for code, entry in contract.errors.items())


@pytest.mark.parametrize("path", STATIC_JS, ids=lambda p: p.name)
def test_the_browser_keeps_no_copy_of_the_contract(path: Path) -> None:
    source = path.read_text()
    assert config.SCHEMA_VERSION not in source, "the schema version comes from /contract.json"
    retyped = [code for code in ERRORS if re.search(rf"\b{code}\s*:", source)]
    assert retyped == [], "error words come from /contract.json"
    assert not re.search(r"\b(120_?000|1800|640|480)\b", source), "limits come from /contract.json"
