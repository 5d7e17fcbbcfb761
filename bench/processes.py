"""Real `a3cp serve` processes on loopback (split-mode and projection-loss tests, the benchmarks):
start, wait until healthy, kill. Each start writes the process's output afresh to its `log_path`
(a restart after a kill replaces the killed run's output). `provision` creates an account, its grants
and an API token through the `a3cp` CLI on the same roots, as an operator would.

The ingest process runs with `mediapipe` and `cv2` made unimportable, which proves what its image
(apps/camera_feed_worker/Dockerfile, no extractor extra) relies on: the ingest role never loads them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.client import PERFORMER

READY_WAIT_S = 120.0  # a readiness wait (MediaPipe import on a cold machine), not a timed assertion
_BLOCK_EXTRACTOR_DEPS = "import sys; sys.modules.update(mediapipe=None, cv2=None); "
_RUN_CLI = "from a3cp.cli import main; raise SystemExit(main(sys.argv[1:]))"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One `a3cp serve --role ROLE` child process sharing DATA_ROOT/LOG_ROOT with its peers."""

    role: str
    port: int
    env: dict[str, str]
    log_path: Path
    workers: int = 1
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        prelude = _BLOCK_EXTRACTOR_DEPS if self.role == "ingest" else "import sys; "
        argv = [sys.executable, "-c", prelude + _RUN_CLI, "serve", "--role", self.role]
        argv += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.role} exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.role} not healthy after {READY_WAIT_S}s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: the process dies mid-request, as a crash or an OOM kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


PROVISION_PASSWORD = "bench password 0123"  # ≥ 12 characters; scripts use the token, never the password


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """`a3cp ARGS` on the roots `env` names, as an operator runs it: its output (RuntimeError on failure)."""
    argv = [sys.executable, "-c", "import sys; " + _RUN_CLI, *args]
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"a3cp {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def provision(
    env: dict[str, str], account: str, users: tuple[str, ...] = (), role: str = "carer"
) -> dict[str, str]:
    """`a3cp accounts create ACCOUNT --role ROLE`, `accounts grant` each of `users`, `tokens create`:
    the headers that authenticate as the account."""
    run_cli(
        env,
        "accounts",
        "create",
        account,
        "--role",
        role,
        "--password-stdin",
        stdin=PROVISION_PASSWORD + "\n",
    )
    for user_id in users:
        run_cli(env, "accounts", "grant", account, user_id)
    token = run_cli(env, "tokens", "create", account).strip().splitlines()[-1]
    return {"Authorization": f"Bearer {token}"}


def split_env(data_root: Path, log_root: Path, extractor_port: int) -> dict[str, str]:
    """Environment shared by both roles: the same roots, and where ingest finds the extractor."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("A3CP_")}
    env.update(
        DATA_ROOT=str(data_root),
        LOG_ROOT=str(log_root),
        A3CP_DB_URL=f"sqlite:///{data_root / 'projection.sqlite3'}",
        A3CP_EXTRACTOR_URL=f"http://127.0.0.1:{extractor_port}",
        A3CP_CONSENT_REQUIRED="0",  # its clients record no consent (docs/privacy.md)
    )
    return env


@contextlib.contextmanager
def provisioned_server(
    root: Path, env_overrides: dict[str, str], users: tuple[str, ...] = ()
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """A single-process `a3cp serve` on fresh roots under `root`, with the environment's overrides and
    the carer PERFORMER provisioned (granted `users`) before it starts: the server and the carer's
    headers, stopped on exit."""
    env = split_env(root / "data", root / "logs", 1)
    env.update(env_overrides)
    headers = provision(env, PERFORMER, users)
    process = ServerProcess("all", free_port(), env, root / "serve.log").start()
    try:
        yield process, headers
    finally:
        process.stop()
