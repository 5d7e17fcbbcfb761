"""Sampling a benchmark's server with py-spy: the samples written as collapsed stacks (one line per
stack, `frame;frame;... count`: text that speedscope.app or flamegraph.pl open), and the functions of
this code base that most samples were inside, for the benchmark to print."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OUR_PACKAGES = ("a3cp/", "eventstore/", "projections/", "web/")


@contextmanager
def sampled(pid: int, stacks: Path, *, gil_only: bool = False) -> Iterator[None]:
    """py-spy samples process `pid` (250 Hz, idle threads left out) while the block runs; `gil_only`
    keeps only the thread holding the GIL (where CPU goes, without threads waiting on I/O or locks)."""
    py_spy = Path(sys.executable).with_name("py-spy")
    argv = [py_spy, "record", "--pid", str(pid), "--output", stacks, "--format", "raw", "--rate", "250"]
    argv += ["--gil"] if gil_only else []
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        if spy.wait(timeout=60) != 0 or not stacks.exists():
            raise RuntimeError(f"py-spy did not sample pid {pid} (is ptrace allowed here?)")


def hottest(stacks: Path, count: int) -> tuple[int, list[tuple[str, float]]]:
    """All samples, and the `count` functions of OUR_PACKAGES present in the largest share of them."""
    inside: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        frames, _, samples = line.rpartition(" ")
        total += int(samples)
        ours = {frame for frame in frames.split(";") if any(p in frame for p in OUR_PACKAGES)}
        for frame in ours:
            inside[frame] += int(samples)
    return total, [(frame, n / total) for frame, n in inside.most_common(count)]
