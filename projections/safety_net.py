"""The schedule of the safety net: the scan of every log that catches what no append listener applied.

Every process applies its own appends before it answers (`Projection.after_append`), so the scan of
every log (one stat per log, `Projection.catch_up`) only catches an append whose listener failed or a
log written by other means. A server runs it in the background, in a child process
(web/safety_net.py), off the request path: while its passes keep coming, the request path's periodic
scans (`catch_up(max_age_s=...)`) are skipped, so no request pays for a stat of every log. The pause
between passes grows with how long a pass takes, so the net uses at most DUTY of one core however
many logs there are; a net that stops (its task ended, or a pass overdue) hands the scans back to
the request path, at most once per `max_age_s`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

INTERVAL_S = 1.0  # the shortest pause between two passes
DUTY = 0.2  # the largest share of one core the passes may take


@dataclass
class SafetyNet:
    """When the next background pass is due at the latest; until then the request path does not scan."""

    due_by: float = -math.inf

    def live(self) -> bool:
        return time.monotonic() < self.due_by

    def passed(self, took_s: float) -> float:
        """A pass took `took_s`: the pause before the next one (at most DUTY of the time scanning).
        The net counts as live until twice that pause plus the pass's own length, a margin for a
        slower next pass on a busy machine."""
        pause = max(INTERVAL_S, took_s * (1 - DUTY) / DUTY)
        self.due_by = time.monotonic() + 2 * (pause + took_s)
        return pause

    def stopped(self) -> None:
        """No more background passes: the request path scans again."""
        self.due_by = -math.inf
