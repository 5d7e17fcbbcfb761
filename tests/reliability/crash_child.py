"""Child process of the crash test: append events forever, printing each acknowledged record_id.

Run as `python crash_child.py <log path> <seed>`; the parent SIGKILLs it at a random moment. About
one event in four carries a large payload (up to 1 MiB), so a kill can land inside a write.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from events import make_event

from eventstore import append_event


def main(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    while True:
        size = rng.choice([0, 0, 0, rng.randrange(64 * 1024, 1024 * 1024)])
        event = make_event(padding="x" * size)
        append_event(path, event)
        sys.stdout.write(event["record_id"] + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
