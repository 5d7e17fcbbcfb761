"""Hostile ids: a user_id outside `^[A-Za-z0-9_-]{1,64}$` never reaches the filesystem.

Hypothesis draws arbitrary text (path separators, dots, NUL, unicode, overlong) as the user_id of a
session start; each request must be a 4xx JSON answer, and no path under the data or log root may be
created. 60 derandomized examples keep it to a few seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from a3cp.config import Settings
from bench.client import START, request_body
from tests.fixtures.accounts import is_account_file

pytestmark = pytest.mark.fast

SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EXAMPLES = 60


def _tree(settings: Settings) -> set[Path]:
    return {
        path
        for root in (settings.data_root, settings.log_root)
        if root.exists()
        for path in root.rglob("*")
        if not is_account_file(path)
    }


def test_unsafe_user_id_never_touches_disk(client, settings: Settings, reliability_report) -> None:
    attempts = 0

    @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(user_id=st.text(max_size=80).filter(lambda text: not SAFE.match(text)))
    def post_start(user_id: str) -> None:
        nonlocal attempts
        attempts += 1
        before = _tree(settings)
        response = client.post(START, json=request_body(user_id))
        assert 400 <= response.status_code < 500
        assert isinstance(response.json(), dict)
        assert _tree(settings) == before

    post_start()
    reliability_report.add(
        "user_id outside ^[A-Za-z0-9_-]{1,64}$ on sessions.start (hypothesis text, derandomized)",
        attempts,
        "every request a 4xx JSON answer; no file or directory created under DATA_ROOT/LOG_ROOT",
    )
