"""Evaluation of the recognizer on one person's takes, by the protocol of docs/recognition.md.

For each K: `draws` seeded random draws of K takes per sign as the vocabulary, every other take of that
person as a query. Figures:
- accuracy: the nearest label is the right one (all signs known, the decision's "not sure" ignored);
- decided accuracy: the decision itself is the right label ("not sure" counts as wrong);
- rejection: each sign in turn left out of the vocabulary entirely; `rejection` is how often its takes are
  answered "not sure", `known_accuracy` how often the other signs' takes get their right label meanwhile;
- confusion: counts of (true sign, decision) over the draws, "not sure" as its own column.

The distances between all of a person's takes are computed once (`TakeDistances`); each draw then runs the
recognizer's own calibration (`thresholds`) and decision (`decide`) on the draw's rows and columns, which is
what `build` and `Recognizer.recognize` compute for that vocabulary, without redoing the DTW per draw.
Pure code: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from a3cp.recognition.calibration import thresholds
from a3cp.recognition.errors import InvalidVocabulary
from a3cp.recognition.model import RecognizerParams, decide, template_distances, views
from a3cp.recognition.representation import Array

NOT_SURE = "(not sure)"
# One sign's takes: an `(N, T, 1662)` array (the shared test-data format), or `(T, 1662)` takes of
# different lengths (a user's own captures).
Takes = Array | Sequence[Array]


@dataclass(frozen=True)
class TakeDistances:
    labels: list[str]  # each take's sign
    matrix: Array  # [i, j]: take i against take j, as a query or as a template (symmetric)

    @classmethod
    def of(cls, signs: Mapping[str, Takes], params: RecognizerParams) -> TakeDistances:
        """`signs`: sign -> `(N, T, 1662)` takes of one person (or a list of `(T, 1662)` takes)."""
        labels = [sign for sign in sorted(signs) for _ in range(len(signs[sign]))]
        taken = [
            views(take, params, f"{sign}[{index}]")
            for sign in sorted(signs)
            for index, take in enumerate(signs[sign])
        ]
        return cls(labels, template_distances(taken, params))


@dataclass
class Figures:
    """One person at one K, summed over the draws."""

    examples: int
    correct: int = 0
    decided_correct: int = 0
    queries: int = 0
    unknown_rejected: int = 0
    unknown_queries: int = 0
    known_correct: int = 0
    known_queries: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.queries if self.queries else 0.0

    @property
    def decided_accuracy(self) -> float:
        return self.decided_correct / self.queries if self.queries else 0.0

    @property
    def rejection(self) -> float:
        return self.unknown_rejected / self.unknown_queries if self.unknown_queries else 0.0

    @property
    def known_accuracy(self) -> float:
        return self.known_correct / self.known_queries if self.known_queries else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "examples": self.examples,
            "accuracy": round(self.accuracy, 4),
            "decided_accuracy": round(self.decided_accuracy, 4),
            "rejection": round(self.rejection, 4),
            "known_accuracy": round(self.known_accuracy, 4),
            "queries": self.queries,
            "confusion": [
                [truth, decision, count] for (truth, decision), count in sorted(self.confusion.items())
            ],
        }


def _answers(
    distances: TakeDistances, vocabulary: Array, queries: Array, params: RecognizerParams
) -> list[tuple[str, str, str]]:
    """(truth, nearest label, decision) for each query against a vocabulary of take indices."""
    labels = [distances.labels[i] for i in vocabulary]
    label_thresholds = thresholds(
        distances.matrix[np.ix_(vocabulary, vocabulary)], labels, params.calibration
    )
    answers = []
    for query in queries:
        recognition = decide(distances.matrix[query, vocabulary], labels, label_thresholds)
        answers.append((distances.labels[query], recognition.scores[0][0], recognition.label or NOT_SURE))
    return answers


def evaluate_person(
    distances: TakeDistances, examples: int, draws: int, seed: int, params: RecognizerParams
) -> Figures:
    """The figures of one person for `examples` takes per sign in the vocabulary."""
    names = np.asarray(distances.labels)
    signs = sorted(set(distances.labels))
    by_sign = {sign: np.flatnonzero(names == sign) for sign in signs}
    short = [sign for sign in signs if len(by_sign[sign]) <= examples]
    if short:
        raise InvalidVocabulary(
            f"examples: {short} have no take left to query with {examples} examples", "examples"
        )
    rng = np.random.default_rng(seed)
    figures = Figures(examples)
    for _ in range(draws):
        chosen = {sign: rng.choice(by_sign[sign], examples, replace=False) for sign in signs}
        vocabulary = np.concatenate([chosen[sign] for sign in signs])
        queries = np.setdiff1d(np.arange(len(names)), vocabulary)
        for truth, nearest, decision in _answers(distances, vocabulary, queries, params):
            figures.queries += 1
            figures.correct += nearest == truth
            figures.decided_correct += decision == truth
            figures.confusion[truth, decision] += 1
        for left_out in signs if len(signs) > 1 else []:
            known = np.concatenate([chosen[sign] for sign in signs if sign != left_out])
            for truth, _nearest, decision in _answers(distances, known, queries, params):
                if truth == left_out:
                    figures.unknown_queries += 1
                    figures.unknown_rejected += decision == NOT_SURE
                else:
                    figures.known_queries += 1
                    figures.known_correct += decision == truth
    return figures


def evaluate(
    people: Mapping[str, Mapping[str, Takes]],
    examples: Sequence[int] = (1, 3, 5),
    draws: int = 10,
    seed: int = 0,
    params: RecognizerParams | None = None,
) -> dict[str, dict[int, Figures]]:
    """person -> K -> figures, for `people` (person -> sign -> its takes)."""
    chosen = params or RecognizerParams()
    result = {}
    for person in sorted(people):
        distances = TakeDistances.of(people[person], chosen)
        result[person] = {k: evaluate_person(distances, k, draws, seed, chosen) for k in examples}
    return result


def mean(results: Mapping[str, Mapping[int, Figures]], examples: int, figure: str) -> float:
    """The mean over people of one figure (an attribute of Figures) at K = `examples`."""
    return float(np.mean([getattr(by_k[examples], figure) for by_k in results.values()]))
