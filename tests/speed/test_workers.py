"""`a3cp serve --workers 2`: two server processes behind one port share the logs and the projection.
Concurrent starts and ends from several clients all succeed, each person keeps one active session at a
time, and the list of each person's sessions (whichever worker answers it) shows every session once,
closed; a second start for a person whose session is active, sent to either worker, joins it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.client import END, START, end_body, request_body
from bench.server import served

USERS = ("ana", "ben", "cleo", "dev")
PAIRS = 6


def _pairs(url: str, headers: dict[str, str], user_id: str) -> list[str]:
    sessions = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for _ in range(PAIRS):
            started = http.post(START, json=request_body(user_id))
            assert started.status_code == 201, started.text
            session_id = started.json()["session_id"]
            joined = http.post(START, json=request_body(user_id))
            assert joined.status_code == 200 and joined.json()["session_id"] == session_id, joined.text
            ended = http.post(END, json=end_body(session_id, user_id))
            assert ended.status_code == 200, ended.text
            sessions.append(session_id)
    return sessions


def test_two_workers_share_the_logs_and_the_projection(tmp_path: Path) -> None:
    with served(tmp_path, USERS, workers=2) as server:
        with ThreadPoolExecutor(len(USERS)) as pool:
            started = dict(
                zip(USERS, pool.map(lambda u: _pairs(server.url, server.headers, u), USERS), strict=True)
            )
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as http:
            for user_id, sessions in started.items():
                for _ in range(4):  # new connections: answered by either worker
                    page = http.get(f"/session_manager/users/{user_id}/sessions", params={"limit": 50})
                    listed = page.json()["sessions"]
                    assert sorted(s["session_id"] for s in listed) == sorted(sessions)
                    assert {s["status"] for s in listed} == {"closed"}
