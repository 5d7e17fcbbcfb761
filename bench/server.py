"""A real `a3cp serve` process for the benchmarks (bench.processes.ServerProcess: temporary roots,
free loopback port, health wait, the carer account `carer01` and its API token made with the CLI) and
its memory, read from /proc: current RSS and the peak since the last reset."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.client import PERFORMER
from bench.processes import ServerProcess, free_port, provision


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    headers: dict[str, str]  # authenticate as the carer account the requests name as performer
    tls: ssl.SSLContext | None = None  # for an https:// url: the trust its certificate is verified with

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify`: the server's own trust when given, else the system's."""
        return self.tls or True

    def _status_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def rss_mib(self) -> float:
        return self._status_kib("VmRSS") / 1024

    def reset_peak(self) -> None:
        """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM to the RSS)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def peak_mib(self) -> float:
        return self._status_kib("VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        return sum(_cpu_seconds(pid) for pid in (self.pid, *_children(self.pid)))


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): field 3 onwards."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError):
                continue  # gone meanwhile
    return children


@contextmanager
def served(root: Path, users: tuple[str, ...], workers: int = 1) -> Iterator[Server]:
    """`a3cp serve` (role all, fdatasync on, SQLite projection, `workers` processes) on data under
    `root`, with the carer `carer01` granted `users`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("A3CP_")}
    # Its clients record no consent (docs/privacy.md): consent is not what a benchmark measures.
    env.update(DATA_ROOT=str(root / "data"), LOG_ROOT=str(root / "logs"), A3CP_CONSENT_REQUIRED="0")
    headers = provision(env, PERFORMER, users)
    process = ServerProcess("all", free_port(), env, root / "server.log", workers).start()
    try:
        assert process.process is not None
        yield Server(process.url, process.process.pid, headers)
    finally:
        process.stop()
