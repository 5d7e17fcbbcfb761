"""The recognition service: a person's vocabulary, their recognizer (built on demand, cached by what it
is built from) and each recognition, recorded (docs/recognition.md, *Service*).

The vocabulary is every active capture (not discarded, not erased) that has a label, its current one
from curation or else the annotation it was taken with, while the person's `train` consent is in force
(or consent is not enforced, a deployment's explicit choice). Which captures exist comes from the
projection; their label and status from the fold of the consent stream itself, so a discard, an erasure or
a withdrawal counts from the moment it is recorded; a capture an erasure was asked for counts as erased
before the erasure is finished (as the export's selection does). An example the recognizer cannot use
(its features fail the library's check, e.g. no frame shows both shoulders) is left out and listed as
unusable with the reason, so one bad take never blocks a person's recognizer. A recognizer is rebuilt
when the vocabulary (its examples' record_ids, labels and feature hashes) changed since the last build
(so a discard, an erasure or an unusable take leaving it rebuilds it); each build appends
`recognizer.built`, each recognition `gesture.recognized`, to the person's recognition stream.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from a3cp.config import Settings
from a3cp.domain.consent import (
    CaptureErasedError,
    UserConsentState,
    erasure_targets,
    require_capture_known,
    require_not_erased,
)
from a3cp.domain.events import FEATURE_EVENT
from a3cp.domain.recognition import (
    TOP_K,
    GestureRecognized,
    NoVocabulary,
    RecognizerBuilt,
    ScoredLabel,
    TrainConsentRequired,
    require_train_consent,
)
from a3cp.recognition import CODE_VERSION, InvalidFeatures, Recognition, Recognizer, build
from a3cp.recognition.representation import Array, check_features
from a3cp.schemas import utc_now
from a3cp.services.consent import ConsentService
from a3cp.services.reads import ReadService
from a3cp.storage_layout import recognition_stream_path, require_safe_id
from eventstore import append_event

VocabularyKey = tuple[tuple[str, str, str], ...]  # (label, record_id, feature file hash), sorted


@dataclass(frozen=True)
class Example:
    """One labelled capture of the vocabulary."""

    record_id: str
    session_id: str
    label: str
    features_uri: str
    features_hash: str
    quality: Mapping[str, Any]


@dataclass(frozen=True)
class UnusableExample:
    """A labelled capture the recognizer cannot use, and why."""

    example: Example
    reason: str


@dataclass(frozen=True)
class Vocabulary:
    """A person's examples now; `refusal` says why none may be used (no `train` consent), else None;
    `unusable` the labelled captures left out because the recognizer cannot use their features."""

    user_id: str
    examples: tuple[Example, ...]
    refusal: TrainConsentRequired | None = None
    unusable: tuple[UnusableExample, ...] = ()

    @property
    def by_label(self) -> dict[str, list[Example]]:
        labels: dict[str, list[Example]] = defaultdict(list)
        for example in self.examples:
            labels[example.label].append(example)
        return dict(sorted(labels.items()))

    @property
    def key(self) -> VocabularyKey:
        return tuple(sorted((e.label, e.record_id, e.features_hash) for e in self.examples))


@dataclass(frozen=True)
class RecognitionOutcome:
    """What a recognition answered and the event that records it."""

    recognition: Recognition
    event: GestureRecognized


class RecognitionService:
    """One process's recognizers, one per person, rebuilt when their vocabulary changes."""

    def __init__(self, settings: Settings, reads: ReadService, consent: ConsentService) -> None:
        self.settings = settings
        self.reads = reads
        self.consent = consent
        self._models: dict[str, tuple[VocabularyKey, Recognizer]] = {}
        self._problems: dict[str, str | None] = {}  # features hash -> why unusable (None: usable)
        self._guard = threading.Lock()  # guards the dict of per-person build locks
        # one build per person at a time: a second request waits for the first's model, others do not
        self._build_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def vocabulary(self, user_id: str) -> Vocabulary:
        require_safe_id(user_id, "user_id")
        state = self.consent.state(user_id)
        if self.settings.consent_required:
            try:
                require_train_consent(state, utc_now())
            except TrainConsentRequired as refusal:
                return Vocabulary(user_id, (), refusal)
        erasing = self._erasing(user_id, state)
        examples = []
        unusable = []
        for session in self.reads.every_user_session(user_id, lambda _: True):
            for capture in session.captures:
                curation = state.captures.get(capture.record_id)
                status = curation.status if curation is not None else "active"
                label = (curation.label if curation is not None else None) or capture.annotation_intent
                if status != "active" or not label or capture.uri is None or capture.hash is None:
                    continue
                if capture.record_id in erasing:
                    continue
                example = Example(
                    capture.record_id,
                    session.session_id,
                    label,
                    capture.uri,
                    capture.hash,
                    capture.quality or {},
                )
                problem = self._problem(example)
                if problem is None:
                    examples.append(example)
                else:
                    unusable.append(UnusableExample(example, problem))
        return Vocabulary(
            user_id,
            tuple(sorted(examples, key=lambda e: (e.label, e.record_id))),
            unusable=tuple(sorted(unusable, key=lambda u: (u.example.label, u.example.record_id))),
        )

    def require_recognizable(self, user_id: str) -> Vocabulary:
        """The person's vocabulary when a recognizer can be built from it (without building it);
        TrainConsentRequired or NoVocabulary when there is none to use."""
        vocabulary = self.vocabulary(user_id)
        if vocabulary.refusal is not None:
            raise vocabulary.refusal
        if not vocabulary.examples:
            raise NoVocabulary(
                "the person has no usable labelled capture to recognize against yet", "user_id"
            )
        return vocabulary

    def _erasing(self, user_id: str, state: UserConsentState) -> frozenset[str]:
        """The captures an erasure was asked for and not yet recorded done: erased for the recognizer."""
        if not state.erasures:
            return frozenset()
        return frozenset(c.record_id for c, _ in erasure_targets(state, self.consent.captures_of(user_id)))

    def _problem(self, example: Example) -> str | None:
        """Why the recognizer cannot use the example's features (the library's check), or None; kept
        per features hash, which names the file's content."""
        if example.features_hash not in self._problems:
            try:
                check_features(self._features(example.features_uri))
                self._problems[example.features_hash] = None
            except InvalidFeatures as invalid:
                self._problems[example.features_hash] = invalid.message
            except FileNotFoundError:  # not kept: the file may come back (a restore)
                return "the features file is missing"
        return self._problems[example.features_hash]

    def takes(self, vocabulary: Vocabulary) -> dict[str, list[Array]]:
        """label -> the examples' `(T, 1662)` features, read from their files."""
        return {
            label: [self._features(example.features_uri) for example in examples]
            for label, examples in vocabulary.by_label.items()
        }

    def recognizer(self, user_id: str, performer_id: str) -> Recognizer:
        """The person's recognizer for their vocabulary now (built, and `recognizer.built` recorded, when
        it changed); TrainConsentRequired or NoVocabulary when there is none to use."""
        vocabulary = self.require_recognizable(user_id)
        cached = self._models.get(user_id)
        if cached is not None and cached[0] == vocabulary.key:
            return cached[1]
        with self._guard:
            build_lock = self._build_locks[user_id]
        with build_lock:
            cached = self._models.get(user_id)  # a build that ran while this one waited may fit
            if cached is not None and cached[0] == vocabulary.key:
                return cached[1]
            by_label = vocabulary.by_label
            ids = {label: [e.record_id for e in examples] for label, examples in by_label.items()}
            model = build(self.takes(vocabulary), example_ids=ids)
            self._append(
                RecognizerBuilt(
                    user_id=user_id,
                    performer_id=performer_id,
                    model_hash=model.model_hash,
                    code_version=CODE_VERSION,
                    record_ids=tuple(sorted(e.record_id for e in vocabulary.examples)),
                    labels={label: len(examples) for label, examples in by_label.items()},
                )
            )
            self._models[user_id] = (vocabulary.key, model)
            return model

    def recognize_record(self, user_id: str, record_id: str, performer_id: str) -> RecognitionOutcome:
        """Recognize a capture of `user_id` already recorded (RecordNotFound for any other record)."""
        found = self.reads.find_record(record_id)
        require_capture_known(
            found is not None
            and found.user_id == user_id
            and found.event == FEATURE_EVENT
            and found.raw_features_ref is not None
        )
        assert found is not None and found.raw_features_ref is not None
        state = self.consent.state(user_id)
        require_not_erased(state, record_id)
        if record_id in self._erasing(user_id, state):
            raise CaptureErasedError("the capture is being erased", "record_id")
        features = self._features(found.raw_features_ref.uri)
        return self.recognize(user_id, record_id, found.session_id, features, performer_id)

    def recognize(
        self, user_id: str, record_id: str, session_id: str, features: Array, performer_id: str
    ) -> RecognitionOutcome:
        """Recognize the features of capture `record_id` and record the answer."""
        model = self.recognizer(user_id, performer_id)
        recognition = model.recognize(features)
        event = GestureRecognized(
            user_id=user_id,
            performer_id=performer_id,
            capture_record_id=record_id,
            session_id=session_id,
            model_hash=model.model_hash,
            top=tuple(ScoredLabel(label=label, score=score) for label, score in recognition.scores[:TOP_K]),
            decision=recognition.label,
        )
        self._append(event)
        return RecognitionOutcome(recognition, event)

    def _features(self, uri: str) -> Array:
        with np.load(self.settings.data_root / uri, allow_pickle=False) as archive:
            features: Array = archive["features"]
        return features

    def _append(self, event: RecognizerBuilt | GestureRecognized) -> None:
        path = recognition_stream_path(self.settings, event.user_id, create_dir=True)
        append_event(path, event.to_record())
