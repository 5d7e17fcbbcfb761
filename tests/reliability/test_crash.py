"""Crash: SIGKILL a process that is appending, at random moments; no acknowledged event is lost.

25 kills; each child waits until its first append is acknowledged, then dies 0-30 ms later (often
inside a 64 KiB-1 MiB write). Bounded: a few seconds in all.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from events import make_event

from a3cp.schemas import EventEnvelope
from eventstore import LogRead, append_event, read_log
from eventstore.format import TORN_MARKER

HERE = Path(__file__).resolve().parent
KILLS = 25


def kill_while_appending(log: Path, seed: int, delay: float) -> list[str]:
    """Run one child until SIGKILL; the record_ids it acknowledged (complete lines on its pipe)."""
    child = subprocess.Popen(
        [sys.executable, str(HERE / "crash_child.py"), str(log), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=HERE,
    )
    first = child.stdout.readline()
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    rest, errors = child.communicate()
    assert first.endswith(b"\n"), errors.decode()
    assert child.returncode == -signal.SIGKILL
    return [line.decode() for line in (first + rest).split(b"\n")[:-1]]  # a cut-off last line is no ack


def check_log(log: Path, acknowledged: list[str]) -> LogRead:
    """Every acknowledged event exactly once; every complete line an event or a marked torn line."""
    data = log.read_bytes()
    read = read_log(log)
    counts = Counter(event["record_id"] for event in read.events)
    assert all(counts[record_id] == 1 for record_id in acknowledged), "an acknowledged event is missing"
    assert max(counts.values()) == 1, "an event was recorded twice"
    for event in read.events:
        EventEnvelope.model_validate(event)
    marked = [t for t in read.torn if data[t.offset : t.offset + t.length + 1].endswith(TORN_MARKER)]
    unterminated = len(data) > 0 and not data.endswith(b"\n")
    assert data.count(b"\n") == len(read.events) + len(marked)
    assert len(read.torn) == len(marked) + unterminated, "at most one unterminated tail"
    return read


def test_sigkill_while_appending_loses_no_acknowledged_event(tmp_path: Path, reliability_report) -> None:
    log = tmp_path / "crash.log"
    rng = random.Random(20261125)
    acknowledged: list[str] = []
    torn_tails = 0
    for kill in range(KILLS):
        acknowledged += kill_while_appending(log, kill, rng.uniform(0, 0.03))
        read = check_log(log, acknowledged)
        torn_tails += any(t.offset + t.length == log.stat().st_size for t in read.torn)

    final = make_event()
    append_event(log, final)
    read = check_log(log, acknowledged)
    assert read.events[-1] == final and log.read_bytes().endswith(b"\n")
    reliability_report.add(
        "SIGKILL of a process appending to a session log",
        KILLS,
        f"{len(acknowledged)} acknowledged events all present exactly once; {len(read.events)} events, "
        f"{torn_tails} of the kills left a torn tail (skipped on read, marked by the next append); "
        "the append after the last kill succeeded",
    )
