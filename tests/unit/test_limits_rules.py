"""The server-clock deadline of the capture policy and admission control, as pure tables."""

from __future__ import annotations

import pytest

from a3cp.capture.admission import Admission
from a3cp.config import CAPTURE_WALL_GRACE_S, MAX_CAPTURE_SECONDS
from a3cp.domain.capture_policy import ServerDeadline
from a3cp.domain.errors import CaptureRejected
from a3cp.faults import CapacityExhausted

LIMIT = MAX_CAPTURE_SECONDS + CAPTURE_WALL_GRACE_S


@pytest.mark.parametrize(
    ("elapsed", "left"), [(0.0, LIMIT), (1.5, LIMIT - 1.5), (MAX_CAPTURE_SECONDS, CAPTURE_WALL_GRACE_S)]
)
def test_the_deadline_counts_server_seconds_from_open(elapsed: float, left: float) -> None:
    assert ServerDeadline(opened_s=100.0).remaining(100.0 + elapsed) == pytest.approx(left)


@pytest.mark.parametrize("elapsed", [LIMIT, LIMIT + 0.001, 10 * LIMIT])
def test_past_the_deadline_is_capture_time_exceeded(elapsed: float) -> None:
    with pytest.raises(CaptureRejected) as refused:
        ServerDeadline(opened_s=5.0).remaining(5.0 + elapsed)
    assert refused.value.code == "capture_time_exceeded"


def test_admission_counts_slots_and_refuses_past_capacity() -> None:
    admission = Admission(capacity=2, retry_after_s=3)
    first, second = admission.admit(), admission.admit()
    with pytest.raises(CapacityExhausted) as refused:
        admission.admit()
    assert refused.value.retry_after_s == 3 and refused.value.code == "capacity_exhausted"
    first.release()
    first.release()  # idempotent: a slot is given back once
    assert admission.in_use == 1
    third = admission.admit()
    second.release()
    third.release()
    assert admission.in_use == 0
