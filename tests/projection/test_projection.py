"""The projection against real logs and a real database: rebuild, torn lines, catch-up, migrations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from projection_checks import as_user, dump, rebuilt_dump, reset_database
from sqlalchemy import inspect
from starlette.testclient import TestClient

from a3cp import cli
from a3cp.config import Settings
from a3cp.schemas import new_record_id, utc_now
from a3cp.storage_layout import iter_session_logs, session_log_path
from bench.client import END, end_session, request_body, start_session
from bench.corpus import start_of
from eventstore import append_event, read_log
from projections import migrate, store
from projections.engine import make_engine
from projections.models import Base
from projections.rebuild_parse import IndexedShare
from projections.store import CatchUp, Projection
from tests.fixtures.accounts import signed_in_client
from web.app import create_app


def feature_event(user_id: str, session_id: str, t: int) -> dict:
    """A feature event as the capture pipeline records it (raw_features_ref + quality)."""
    record_id = new_record_id()
    return {
        "schema_version": "1.0.1",
        "record_id": record_id,
        "user_id": user_id,
        "session_id": session_id,
        "timestamp": utc_now(),
        "source": "landmark_extractor",
        "performer_id": "system",
        "event": "capture.features",
        "modality": "gesture",
        "capture_id": record_id,
        "raw_features_ref": {
            "uri": f"users/{user_id}/sessions/{session_id}/features/{record_id}.npz",
            "hash": "sha256:" + "ab" * 32,
            "encoding": "holistic_landmarks_v1;fps=15",
            "dims": 1662,
            "shape": [t, 1662],
            "dtype": "float32",
            "format": "npz",
        },
        "quality": {"pose": 0.9, "face": 1.0, "left_hand": 0.0, "right_hand": 0.25},
        "annotation": {"intent": "drink"},
    }


def api_answers(
    client: TestClient, session_ids: list[str], user_ids: list[str], record_ids: list[str]
) -> dict:
    """What the read API serves for the given keys (status and JSON), asked by each of the users."""
    urls = [f"/session_manager/sessions/{sid}" for sid in session_ids]
    urls += [f"/session_manager/users/{uid}/sessions" for uid in user_ids]
    urls += [f"/records/{rid}" for rid in record_ids]
    return {
        (url, caller): (r.status_code, r.json())
        for url in urls
        for caller in user_ids
        for r in [client.get(url, headers=as_user(client, caller))]
    }


def populate(client: TestClient, settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """Two users, three sessions (one ended, one with a capture), via HTTP and the recorder."""
    first = start_session(client, "ana", is_training_data=True, training_intent_label="drink")
    end_session(client, first, "ana")  # before ana's next start: a person has one active session at a time
    second = start_session(client, "ana", session_notes="evening")
    third = start_session(client, "ben")
    path = session_log_path(settings, "ana", second)
    append_event(path, feature_event("ana", second, 30))
    client.app.state.services.projection.after_append(path.relative_to(settings.log_root).as_posix())
    record_ids = [event["record_id"] for p in iter_session_logs(settings) for event in read_log(p).events]
    return [first, second, third], ["ana", "ben", "nobody"], record_ids


def test_rebuild_after_deleting_the_database_serves_exactly_what_was_served(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    keys = populate(client, settings)
    before = api_answers(client, *keys)
    assert before["/session_manager/users/ana/sessions", "ana"][1]["sessions"][1]["captures"][0]["T"] == 30
    assert before["/session_manager/users/ana/sessions", "ben"][0] == 404, "only the owner reads a list"
    client.app.state.services.projection.engine.dispose()
    if settings.db_url.startswith("sqlite"):
        database = settings.db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    else:
        reset_database(settings.db_url)
    for name, value in {"DATA_ROOT": settings.data_root, "LOG_ROOT": settings.log_root}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("A3CP_DB_URL", settings.db_url)

    assert cli.main(["rebuild", "--quiet"]) == 0
    assert "3 files, 5 events, 0 torn lines skipped" in capsys.readouterr().out

    projection = Projection(settings)
    after = dump(projection)
    projection.engine.dispose()
    app = create_app(settings)
    with signed_in_client(app) as fresh:
        assert api_answers(fresh, *keys) == before
    app.state.services.projection.engine.dispose()
    assert after == dump(client.app.state.services.projection)


def test_rebuild_skips_and_reports_a_torn_last_line(client: TestClient, settings: Settings) -> None:
    session_id = start_session(client, "ana")
    end_session(client, session_id, "ana")
    path = session_log_path(settings, "ana", session_id)
    with open(path, "ab") as handle:  # a crash fragment, written by hand (tests may write logs)
        handle.write(b'{"record_id": "cut off mid-wri')
    projection = client.app.state.services.projection
    served = dump(projection)

    summary = projection.rebuild()

    assert (summary.totals.files, summary.totals.events, summary.totals.torn) == (1, 2, 1)
    assert "1 files, 2 events, 1 torn lines skipped" in summary.line()
    assert dump(projection) == served


def test_catch_up_applies_only_lines_appended_since_the_checkpoint(
    client: TestClient, settings: Settings
) -> None:
    projection = client.app.state.services.projection
    sessions = [start_session(client, user) for user in ("ana", "ben", "cleo")]  # one active session each
    assert projection.catch_up() == CatchUp(), "the append listener already applied everything"

    path = session_log_path(settings, "ben", sessions[1])
    append_event(path, feature_event("ben", sessions[1], 12))  # the recorder alone: no listener ran
    size = path.stat().st_size
    assert projection.catch_up() == CatchUp(files=1, events=1, torn=0)
    assert projection.catch_up() == CatchUp()
    record_url = f"/records/{read_log(path).events[-1]['record_id']}"
    record = client.get(record_url, headers=as_user(client, "ben")).json()
    assert (record["log_position"], record["raw_features_ref"]["shape"]) == (1, [12, 1662])
    assert record["log_offset"] + len(path.read_bytes()[record["log_offset"] :]) == size


def test_a_bounded_age_catch_up_skips_rescans_but_a_plain_one_never_does(settings: Settings) -> None:
    """Without the background safety net (an app whose lifespan does not run, as in the CLI), the
    request path's periodic scan of other processes' logs runs at most once per interval; a plain
    catch-up always scans. Either way a new line is applied once, and a replaced file forgets the cache."""
    app = create_app(settings)
    client = signed_in_client(app)  # not entered: no lifespan, so no background scan races the counts
    projection = app.state.services.projection
    session_id = start_session(client, "ana")
    path = session_log_path(settings, "ana", session_id)
    assert projection.catch_up() == CatchUp()

    append_event(path, feature_event("ana", session_id, 3))  # as another process would
    assert projection.catch_up(max_age_s=3600) == CatchUp(), "scanned moments ago: skipped"
    assert projection.catch_up() == CatchUp(files=1, events=1, torn=0)
    append_event(path, feature_event("ana", session_id, 4))
    assert projection.catch_up(max_age_s=1e-9) == CatchUp(files=1, events=1, torn=0), "interval over"
    assert projection.catch_up() == CatchUp()

    projection.rebuild()  # forgets the offsets it knew were applied, then replays everything
    assert projection.catch_up() == CatchUp()
    assert len(dump(projection)["records"]) == 3
    projection.engine.dispose()


def test_concurrent_catch_up_applies_each_line_once(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    owned = [(user, start_session(client, user)) for user in ("ana", "ben", "cleo", "dan", "eve", "finn")]
    for user, session_id in owned:  # lines appended by the recorder alone, for four catch-ups to race on
        for t in range(1, 6):
            append_event(session_log_path(settings, user, session_id), feature_event(user, session_id, t))
    projections = [Projection(settings) for _ in range(4)]
    threads = [threading.Thread(target=projection.catch_up) for projection in projections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for projection in projections:
        projection.engine.dispose()
    live = dump(client.app.state.services.projection)
    assert len(live["records"]) == 6 * 6
    assert live == rebuilt_dump(settings, tmp_path)


def test_a_scan_in_another_process_reads_what_the_server_applied_without_locking_per_log(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net's scanner (its own Projection, as another process) learns the checkpoints of
    logs the server applied with one read; only a log nobody applied takes a locked catch-up."""
    app = create_app(settings)
    client = signed_in_client(app)  # not entered: no lifespan, no background scan of its own
    start_session(client, "eve")
    scanner = Projection(settings)
    assert scanner.catch_up() == CatchUp()  # it has loaded the applied offsets once: eve's log only
    applied_by_server = [start_session(client, user) for user in ("ana", "ben", "cleo")]
    orphan = start_of("dan")  # a log written by other means: nobody applied it
    append_event(session_log_path(settings, "dan", orphan["session_id"], create_dir=True), orphan)
    locked: list[str] = []
    catch_up_log = scanner.catch_up_log
    monkeypatch.setattr(scanner, "catch_up_log", lambda name: locked.append(name) or catch_up_log(name))
    assert scanner.catch_up() == CatchUp(files=1, events=1, torn=0)
    assert [name.split("/")[1] for name in locked] == ["dan"], applied_by_server
    scanner.engine.dispose()
    app.state.services.projection.engine.dispose()


def test_alembic_head_on_an_empty_database_equals_the_models(settings: Settings) -> None:
    projection = Projection(settings)
    projection.upgrade()
    projection.upgrade()  # a second upgrade (another process starting) is a no-op
    engine = make_engine(settings.db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
    projection.engine.dispose()


def test_a_database_at_the_consent_revision_of_the_earlier_chain_upgrades_to_the_models(
    settings: Settings,
) -> None:
    """main once ran 0001 -> 0003_consent_curation; a database it left there upgrades through the
    narrow-index revision (merged after it) to exactly the models."""
    engine = make_engine(settings.db_url)
    with engine.connect() as conn, conn.begin():
        command.upgrade(migrate.alembic_config(settings.db_url, conn), "0003_consent_curation")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0003_consent_curation"
        assert "records" in inspect(conn).get_table_names()  # the earlier chain's wide table
    projection = Projection(settings)
    projection.upgrade()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
    projection.engine.dispose()


def test_writes_keep_working_while_the_projection_is_gone(client: TestClient, settings: Settings) -> None:
    session_id = start_session(client, "ana")
    projection = client.app.state.services.projection
    migrate.drop(projection.engine)  # deleted under the running app

    end_session(client, session_id, "ana")
    other = start_session(client, "ana")
    assert client.post(END, json=request_body("ana", session_id=session_id)).status_code == 409, (
        "decided from the log"
    )

    summary = projection.rebuild()
    assert (summary.totals.files, summary.totals.events) == (2, 3)
    served = client.get("/session_manager/users/ana/sessions", headers=as_user(client, "ana")).json()[
        "sessions"
    ]
    assert {s["session_id"]: s["status"] for s in served} == {session_id: "closed", other: "active"}


def test_a_catch_up_by_another_process_waits_for_a_rebuild_under_way(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild commits in batches; a catch-up between two of them would apply lines the rebuild
    applies again (and on PostgreSQL deadlocked with it). It waits, and nothing is lost meanwhile."""
    app = create_app(settings)
    client = signed_in_client(app)  # not entered: no background scan of its own
    projection = app.state.services.projection
    ana, ben = (start_session(client, user) for user in ("ana", "ben"))
    monkeypatch.setattr(store, "REBUILD_BATCH_EVENTS", 1)  # a commit after each log's share
    between_batches, resume = threading.Event(), threading.Event()
    shares = store.indexed_shares

    def pausing_after_the_first_commit(*args: Any) -> Iterator[IndexedShare]:
        for number, share in enumerate(shares(*args)):
            if number == 1:  # asked for the second share: the first one is committed
                between_batches.set()
                resume.wait(30)
            yield share

    monkeypatch.setattr(store, "indexed_shares", pausing_after_the_first_commit)
    rebuild = threading.Thread(target=projection.rebuild, kwargs={"jobs": 1})
    rebuild.start()
    assert between_batches.wait(30)
    path = session_log_path(settings, "ben", ben)
    append_event(path, feature_event("ben", ben, 5))  # as another process records it
    other_process = Projection(settings)
    catch_up = threading.Thread(
        target=other_process.catch_up_log, args=(path.relative_to(settings.log_root).as_posix(),)
    )
    catch_up.start()
    catch_up.join(1.0)
    assert catch_up.is_alive(), "the other process's catch-up ran in the middle of the rebuild"
    resume.set()
    rebuild.join(30)
    catch_up.join(30)
    assert not rebuild.is_alive() and not catch_up.is_alive()
    live = dump(projection)
    assert len(live["records"]) == 3 and ana in live["sessions"]
    assert live == rebuilt_dump(settings, tmp_path)
    other_process.engine.dispose()
    projection.engine.dispose()


def test_the_safety_net_applies_a_log_it_finds_unapplied_at_two_passes_in_a_row(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log found unapplied once is most often one whose listener is under way in a server: the net
    does not take the write lock from it, and applies the log at its next pass if it is still behind."""
    app = create_app(settings)
    client = signed_in_client(app)  # not entered: no background net of its own
    listened, orphaned = start_session(client, "ana"), start_session(client, "ben")
    net = Projection(settings)  # the scanner child's own projection
    locked: list[str] = []
    catch_up_log = net.catch_up_log
    monkeypatch.setattr(net, "catch_up_log", lambda name: locked.append(name) or catch_up_log(name))
    net.safety_net_pass()
    for user, session_id in (("ana", listened), ("ben", orphaned)):  # recorded, no listener ran yet
        append_event(session_log_path(settings, user, session_id), feature_event(user, session_id, 3))
    net.safety_net_pass()
    assert locked == [] and len(dump(net)["records"]) == 2, "applied at the first sight"
    ana_log = session_log_path(settings, "ana", listened).relative_to(settings.log_root).as_posix()
    app.state.services.projection.after_append(ana_log)  # ana's listener, late
    net.safety_net_pass()
    assert [name.split("/")[1] for name in locked] == ["ben"], "only the log still behind is caught up"
    assert len(dump(net)["records"]) == 4
    net.engine.dispose()
    app.state.services.projection.engine.dispose()
