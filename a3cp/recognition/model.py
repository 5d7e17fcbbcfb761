"""The recognizer model: the user's templates (represented examples) and parameters, its thresholds and
its hash; `build` makes one from labelled examples, `Recognizer.recognize` answers for a new take.

Decision: the label of the nearest template (DTW distance, each take also compared in its mirror image when
`mirror` is on, since people use either hand for the same gesture), if that distance is within the label's
threshold (`calibration`); otherwise None ("not sure"). Scores are similarities `1 / (1 + d / s)` of each
label's nearest template distance d, with s the vocabulary's median threshold: in (0, 1], higher is closer,
ordered like the distances. Pure code: no I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from a3cp.recognition.calibration import CalibrationParams, thresholds
from a3cp.recognition.distance import DistanceParams, cross
from a3cp.recognition.errors import InvalidVocabulary
from a3cp.recognition.representation import Array, RepresentationParams, check_features, mirrored, represent

# Part of every model hash: bump when representation, distance or decision code changes what a model answers.
CODE_VERSION = "recognition-1"


@dataclass(frozen=True)
class RecognizerParams:
    representation: RepresentationParams = field(default_factory=RepresentationParams)
    distance: DistanceParams = field(default_factory=DistanceParams)
    calibration: CalibrationParams = field(default_factory=CalibrationParams)
    mirror: bool = True  # a take matches a template done with the other hand


@dataclass(frozen=True)
class Recognition:
    label: str | None  # None: not sure
    scores: list[tuple[str, float]]  # every label of the vocabulary, best first
    distance: float  # to the nearest template
    threshold: float  # of the nearest template's label


@dataclass(frozen=True)
class Template:
    label: str
    example_id: str  # the caller's id (a record_id) or the feature hash
    feature_hash: str
    views: tuple[Array, ...]  # the represented take, then (with `mirror`) its mirror image


class Recognizer:
    """One user's model: `templates` (label, id, feature hash, representation; sorted), `params`, the
    per-label `thresholds` calibrated on the templates, and `model_hash` identifying all of it."""

    def __init__(self, templates: Sequence[Template], params: RecognizerParams) -> None:
        self.templates = tuple(templates)
        self.params = params
        self.labels = tuple(sorted({t.label for t in self.templates}))
        self.template_labels = [t.label for t in self.templates]
        self.thresholds = thresholds(
            template_distances([t.views for t in self.templates], params),
            self.template_labels,
            params.calibration,
        )
        self.model_hash = model_hash(self.templates, params)

    def distances(self, features: Array) -> Array:
        """Distance from a take to every template (in `self.templates` order)."""
        taken = views(features, self.params, "features")
        distances: Array = query_distances([taken], [t.views for t in self.templates], self.params)[0]
        return distances

    def recognize(self, features: Array) -> Recognition:
        return decide(self.distances(features), self.template_labels, self.thresholds)


def query_distances(
    queries: Sequence[tuple[Array, ...]],
    templates: Sequence[tuple[Array, ...]],
    params: RecognizerParams,
) -> Array:
    """`(queries, templates)`: each query's distance to each template, the nearer of the query as taken and
    (with `mirror`) mirrored, against the template as taken."""
    columns = [template[0] for template in templates]
    per_view = [
        cross([q[view] for q in queries], columns, params.distance) for view in range(len(queries[0]))
    ]
    return np.asarray(np.min(per_view, axis=0), dtype=np.float64)


def template_distances(templates: Sequence[tuple[Array, ...]], params: RecognizerParams) -> Array:
    """`query_distances(templates, templates)`, computed for one triangle only: DTW is symmetric and
    mirroring both takes changes nothing, so d(mirror(a), b) = d(a, mirror(b)) = d(mirror(b), a)."""
    count = len(templates)
    distances = np.zeros((count, count))
    for row in range(count - 1):
        distances[row, row + 1 :] = query_distances(templates[row : row + 1], templates[row + 1 :], params)[0]
    return distances + distances.T


def decide(
    distances: Array, template_labels: Sequence[str], label_thresholds: Mapping[str, float]
) -> Recognition:
    """The answer for a take at `distances` from the templates: the nearest template's label if within that
    label's threshold, else None; each label scored by its nearest template."""
    names = np.asarray(template_labels)
    nearest = {label: float(distances[names == label].min()) for label in sorted(label_thresholds)}
    ranked = sorted(nearest.items(), key=lambda item: (item[1], item[0]))
    best_label, best_distance = ranked[0]
    threshold = label_thresholds[best_label]
    finite = [value for value in label_thresholds.values() if np.isfinite(value)]
    scale = float(np.median(finite)) if finite else 1.0
    return Recognition(
        label=best_label if best_distance <= threshold else None,
        scores=[(label, round(1.0 / (1.0 + d / scale), 6)) for label, d in ranked],
        distance=best_distance,
        threshold=threshold,
    )


def views(features: Array, params: RecognizerParams, field: str) -> tuple[Array, ...]:
    """The take represented, and with `params.mirror` also its mirror image."""
    checked = check_features(features, field)
    own = represent(checked, params.representation, field)
    if not params.mirror:
        return (own,)
    return own, represent(mirrored(checked), params.representation, field)


def feature_hash(features: Array) -> str:
    """sha256 of a take's float32 values in C order, with its shape (NaN bits are part of the value)."""
    array = np.ascontiguousarray(features, dtype=np.float32)
    digest = hashlib.sha256(repr(array.shape).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def model_hash(templates: Sequence[Template], params: RecognizerParams) -> str:
    """sha256 of the code version, the parameters and each template's (label, id, feature hash)."""
    description = {
        "code": CODE_VERSION,
        "params": dataclasses.asdict(params),
        "templates": [[t.label, t.example_id, t.feature_hash] for t in templates],
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def build(
    examples: Mapping[str, Sequence[Array]],
    *,
    params: RecognizerParams | None = None,
    example_ids: Mapping[str, Sequence[str]] | None = None,
) -> Recognizer:
    """A recognizer for `examples` (label -> its `(T, 1662)` takes). `example_ids`, when given, names each
    take (e.g. its record_id, same shape as `examples`) in the model hash; the takes' values always are."""
    chosen = params or RecognizerParams()
    if not examples:
        raise InvalidVocabulary("examples: at least one label with one example is needed", "examples")
    templates = []
    for label in sorted(examples):
        takes = examples[label]
        ids = example_ids.get(label) if example_ids is not None else None
        if not label or not takes:
            raise InvalidVocabulary(f"examples: label {label!r} has no examples", "examples")
        if ids is not None and len(ids) != len(takes):
            raise InvalidVocabulary(
                f"example_ids: {label!r} has {len(ids)} ids for {len(takes)} examples", "example_ids"
            )
        for index, take in enumerate(takes):
            field_name = f"examples[{label!r}][{index}]"
            represented = views(take, chosen, field_name)
            digest = feature_hash(take)
            templates.append(Template(label, ids[index] if ids is not None else digest, digest, represented))
    # The model is a function of the set of examples, not of the order the caller listed them in.
    templates.sort(key=lambda t: (t.label, t.feature_hash, t.example_id))
    return Recognizer(templates, chosen)
