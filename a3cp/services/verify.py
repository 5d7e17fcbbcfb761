"""Replay and verify: check every recorded feature event against the file it points to.

For each `capture.features` event: the file exists at `uri` (inside DATA_ROOT), its sha256 equals
`hash`, it holds `features` as a (T, D) float32 array with [T, D] == `shape` and D == `dims`, and
`timestamps_ms` has T entries; each record_id has exactly one feature event. The report keeps apart
what is recorded and intact, what is recorded but damaged, orphans (feature files no event points to:
a crash between the file and the event) and strays (temp files no live writer holds: a crash while
writing). Neither orphans nor strays were ever recorded data: `repair` removes them, and a serving
process removes strays when it starts (`remove_crash_leftovers`). The CLI (`a3cp verify [--repair]`,
`a3cp replay`), the demo UI and the tests all use these functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from a3cp.capture.artifact import ARTIFACT_SUFFIX, file_digest
from a3cp.capture.locked_temp import remove_stray_temp_files, stray_temp_files
from a3cp.config import Settings
from a3cp.domain.consent import erasure_targets
from a3cp.domain.events import CaptureFeatures, FeaturesRef, parse_event
from a3cp.services.consent import ConsentService, fact_of
from a3cp.storage_layout import StorageLayout
from eventstore import FileLogStore


@dataclass(frozen=True)
class RecordCheck:
    """The verdict on one feature event."""

    event: CaptureFeatures
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def record_id(self) -> str:
        return self.event.record_id


@dataclass
class VerifyReport:
    checks: list[RecordCheck] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # captures per curation status
    erasure_pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failure_lines()

    @property
    def intact(self) -> int:
        return sum(check.ok for check in self.checks)

    def failure_lines(self) -> list[str]:
        lines = [f"FAIL {check.record_id}: {problem}" for check in self.checks for problem in check.problems]
        lines += [f"FAIL {record_id}: more than one feature event" for record_id in self.duplicates]
        lines += [f"FAIL orphan feature file with no event: {path}" for path in self.orphans]
        lines += [f"FAIL stray temp file of an interrupted write: {path}" for path in self.strays]
        lines += [
            f"FAIL {record_id}: erasure pending (finished at the next start or by `a3cp verify --repair`)"
            for record_id in self.erasure_pending
        ]
        return lines

    def summary(self) -> str:
        damaged = len(self.checks) - self.intact
        return (
            f"recorded and intact {self.intact}, damaged {damaged}, duplicated {len(self.duplicates)}, "
            f"orphaned {len(self.orphans)}, stray {len(self.strays)}"
        )


def _resolve(settings: Settings, uri: str | None) -> Path | None:
    if uri is None or not uri.endswith(ARTIFACT_SUFFIX):
        return None
    root = settings.data_root.resolve()
    path = (root / uri).resolve()
    return path if path.is_relative_to(root) else None


def _array_problems(path: Path, reference: FeaturesRef) -> list[str]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            features, timestamps = archive["features"], archive["timestamps_ms"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"unreadable feature file: {exc}"]
    recorded_shape = list(reference.shape) if reference.shape is not None else None
    problems = []
    if features.dtype != np.float32 or features.ndim != 2:
        problems.append(f"features must be a 2-D float32 array, found {features.ndim}-D {features.dtype}")
    elif list(features.shape) != recorded_shape:
        problems.append(f"array shape {list(features.shape)} != recorded shape {recorded_shape}")
    elif features.shape[1] != reference.dims:
        problems.append(f"D {features.shape[1]} != recorded dims {reference.dims}")
    if timestamps.shape != features.shape[:1]:
        problems.append(f"timestamps_ms has {timestamps.shape} entries for {features.shape[0]} frames")
    return problems


def check_feature_event(settings: Settings, event: CaptureFeatures) -> RecordCheck:
    """Verify one feature event against its file."""
    reference = event.raw_features_ref
    if reference is None:
        return RecordCheck(event, ("no raw_features_ref",))
    path = _resolve(settings, reference.uri)
    if path is None:
        return RecordCheck(event, (f"uri {reference.uri!r} is not an .npz inside DATA_ROOT",))
    if not path.is_file():
        return RecordCheck(event, (f"feature file missing: {reference.uri}",))
    digest = file_digest(path)
    if digest != reference.hash:
        return RecordCheck(event, (f"sha256 mismatch: file is {digest}, event says {reference.hash}",))
    return RecordCheck(event, tuple(_array_problems(path, reference)))


def _logs(layout: StorageLayout, user_id: str | None, session_id: str | None) -> Iterator[str]:
    """Names of the selected logs (`users/<user_id>/sessions/<session_id>` + the log suffix)."""
    for name in layout.log_names():
        _, user, _, file_name = name.split("/")
        if user_id is not None and user != user_id:
            continue
        if session_id is not None and Path(file_name).stem != session_id:
            continue
        yield name


def _features_of(records: list[dict[str, object]]) -> Iterator[CaptureFeatures]:
    for record in records:
        event = parse_event(record)
        if isinstance(event, CaptureFeatures):
            yield event


def feature_events(
    settings: Settings, user_id: str | None = None, session_id: str | None = None
) -> list[CaptureFeatures]:
    """Every feature event in the selected logs, in log order."""
    layout = StorageLayout(settings)
    store = FileLogStore(layout)
    return [
        event
        for name in _logs(layout, user_id, session_id)
        for event in _features_of(store.read_from(name, 0).events)
    ]


def verify(settings: Settings, user_id: str | None = None, session_id: str | None = None) -> VerifyReport:
    """Check every feature event of the selected logs, and look for orphan feature files."""
    layout = StorageLayout(settings)
    events = feature_events(settings, user_id, session_id)
    consent = ConsentService(settings)
    states = {user: consent.state(user) for user in {event.user_id for event in events}}
    pending = {
        capture.record_id
        for user, state in states.items()
        for capture, _ in erasure_targets(state, (fact_of(e) for e in events if e.user_id == user))
    }
    report = VerifyReport()
    for event in events:
        status = states[event.user_id].status_of(event.record_id)
        report.statuses[status] += 1
        if status == "erased":
            report.checks.append(_check_erased(settings, event))
        elif event.record_id in pending:
            report.erasure_pending.append(event.record_id)
        else:
            report.checks.append(check_feature_event(settings, event))
    counts = Counter(event.record_id for event in events)
    report.duplicates = sorted(record_id for record_id, count in counts.items() if count > 1)
    referenced = {
        _resolve(settings, event.raw_features_ref.uri if event.raw_features_ref is not None else None)
        for event in events
    }
    for name in _logs(layout, user_id, session_id):
        features_dir = layout.features_dir_of_log(name)
        if features_dir.is_dir():
            report.orphans += sorted(
                p for p in features_dir.glob(f"*{ARTIFACT_SUFFIX}") if p.resolve() not in referenced
            )
            report.strays += stray_temp_files(features_dir)
    if user_id is None and session_id is None:
        report.strays += stray_temp_files(layout.records_dir())
    return report


def repair(report: VerifyReport) -> list[Path]:
    """Remove the report's orphans and strays (never recorded data); the paths removed."""
    removed = [path for path in report.orphans if path.exists()]
    for path in removed:
        path.unlink(missing_ok=True)
    for stray in {path.parent for path in report.strays}:
        removed += remove_stray_temp_files(stray)  # re-checked: a writer may have started meanwhile
    return removed


def remove_crash_leftovers(settings: Settings) -> list[Path]:
    """Remove every temp file no live writer holds, under DATA_ROOT (run when a process starts)."""
    layout = StorageLayout(settings)
    removed = remove_stray_temp_files(layout.records_dir())
    for features_dir in layout.features_dirs():
        removed += remove_stray_temp_files(features_dir)
    return removed


def _check_erased(settings: Settings, event: CaptureFeatures) -> RecordCheck:
    """An erased capture is valid when its file is gone."""
    path = _resolve(settings, event.raw_features_ref.uri if event.raw_features_ref is not None else None)
    return RecordCheck(
        event, ("erased capture's feature file still exists",) if path and path.exists() else ()
    )


def load_feature_event(settings: Settings, log_path: str, offset: int) -> CaptureFeatures | None:
    """The feature event at byte `offset` of a log (as located by the projection's record index)."""
    records = FileLogStore(StorageLayout(settings)).read_from(log_path, offset).events
    event = parse_event(records[0]) if records else None
    return event if isinstance(event, CaptureFeatures) else None
