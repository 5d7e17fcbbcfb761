"""Recognition: the personal gesture recognizer (a3cp.recognition) on real people's takes, against a
plain baseline (docs/benchmarks.md) in the same run, and its latency and build time against vocabulary size.

- Accuracy per person at K = 1, 3, 5 examples per sign (`--draws` seeded draws of the vocabulary, every
  other take of the person a query; the same draws for the recognizer and the baseline), the mean over
  people, and the rejection protocol (each sign in turn left out of the vocabulary: how often its takes are
  "not sure", and how often the known signs' takes get their right label meanwhile). See
  a3cp/recognition/evaluation.py for the definitions.
- Baseline (the anchor): 1-nearest-neighbour under DTW over the raw x, y of the upper-body pose
  (landmarks 0-24) and both hands, frame cost the RMS over the coordinates present in both frames, no
  normalisation, no rejection. (Its frame cost depends on which coordinates both frames have, which the DTW
  libraries only take as a precomputed cost matrix; tslearn's costs a ~45 s numba compile per process here,
  so the bench accumulates the costs itself, vectorised over the candidate takes. The recognizer uses
  dtaidistance.)
- Latency: recognition of one take (its last frame to the answer) and build, single thread pinned to one
  core, for vocabularies of growing size.

DIR defaults to ../shared/gestures next to the repository (not part of it; skipped with a message when
absent). `--quick` runs on the committed takes of tests/data/gestures/ (one MIT-licensed person) at small
sizes: the smoke test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from a3cp.landmarks.layout import PARTS
from a3cp.recognition import RecognizerParams, build
from a3cp.recognition.cli import load_people
from a3cp.recognition.evaluation import TakeDistances, evaluate_person

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "gestures"
COMMITTED = REPO / "tests" / "data" / "gestures"
GOALS = {
    ("accuracy", 5): 0.97,
    ("accuracy", 1): 0.85,
    ("rejection", 5): 0.80,
    ("known_accuracy", 5): 0.93,
}
_POSE, _LEFT_HAND, _RIGHT_HAND = PARTS[0], PARTS[2], PARTS[3]


def baseline_columns() -> np.ndarray:
    """The baseline's coordinates: x, y of pose landmarks 0-24 and of every hand landmark."""
    pose = [_POSE.start + 4 * landmark + value for landmark in range(25) for value in (0, 1)]
    hands = [
        hand.start + 3 * landmark + value
        for hand in (_LEFT_HAND, _RIGHT_HAND)
        for landmark in range(21)
        for value in (0, 1)
    ]
    return np.array(pose + hands)


def accumulated(costs: np.ndarray) -> np.ndarray:
    """DTW distance (sum of frame costs along the cheapest warping path) for each `(T, T)` cost matrix of
    the stack `costs`, all at once."""
    _, rows, columns = costs.shape
    total = np.full((len(costs), rows + 1, columns + 1), np.inf)
    total[:, 0, 0] = 0.0
    for i in range(1, rows + 1):
        for j in range(1, columns + 1):
            previous = np.minimum(np.minimum(total[:, i - 1, j], total[:, i, j - 1]), total[:, i - 1, j - 1])
            total[:, i, j] = costs[:, i - 1, j - 1] + previous
    return total[:, rows, columns]


def baseline_distances(signs: Mapping[str, np.ndarray]) -> TakeDistances:
    """All-pairs baseline DTW distances of one person's takes (symmetric)."""
    labels = [sign for sign in sorted(signs) for _ in range(len(signs[sign]))]
    takes = np.concatenate([signs[sign] for sign in sorted(signs)])[:, :, baseline_columns()]
    present = ~np.isnan(takes)
    values = np.nan_to_num(takes)
    count = len(takes)
    distances = np.zeros((count, count))
    for i in range(count - 1):
        # Masked RMS frame costs of take i against each later take: (later takes, T, T).
        later = slice(i + 1, count)
        both = present[i][None, :, None, :] & present[later][:, None, :, :]
        squared = (values[i][None, :, None, :] - values[later][:, None, :, :]) ** 2
        costs = np.sqrt((squared * both).sum(-1) / np.maximum(both.sum(-1), 1))
        distances[i, later] = distances[later, i] = accumulated(costs)
    return TakeDistances(labels, distances)


People = Mapping[str, Mapping[str, np.ndarray]]


def accuracy_and_rejection(people: People, ks: tuple[int, ...], draws: int) -> None:
    params = RecognizerParams()
    rows: dict[tuple[str, int], dict[str, float]] = {}
    began = time.monotonic()
    for person, signs in people.items():
        ours, baseline = TakeDistances.of(signs, params), baseline_distances(signs)
        for k in ks:
            figures = evaluate_person(ours, k, draws, 0, params)
            rows[person, k] = {
                "baseline": evaluate_person(baseline, k, draws, 0, params).accuracy,
                "accuracy": figures.accuracy,
                "decided_accuracy": figures.decided_accuracy,
                "rejection": figures.rejection,
                "known_accuracy": figures.known_accuracy,
            }
    columns = ("baseline", "accuracy", "decided_accuracy", "rejection", "known_accuracy")
    print(f"{len(people)} people, {draws} draws per K, seed 0 ({time.monotonic() - began:.0f} s)")
    print(f"{'person':<52} {'K':>2} " + " ".join(f"{c:>16}" for c in columns))
    for (person, k), row in rows.items():
        print(f"{person[:52]:<52} {k:>2} " + " ".join(f"{row[c]:>16.3f}" for c in columns))
    means = {k: {c: statistics.mean(rows[p, k][c] for p in people) for c in columns} for k in ks}
    for k in ks:
        print(f"{'mean over people':<52} {k:>2} " + " ".join(f"{means[k][c]:>16.3f}" for c in columns))
    for k in ks:
        low = min(people, key=lambda p: rows[p, k]["accuracy"])
        print(
            f"K={k}: recognizer accuracy {means[k]['accuracy']:.3f} vs baseline {means[k]['baseline']:.3f}; "
            f"lowest person {rows[low, k]['accuracy']:.3f} ({low})"
        )
    for (figure, k), goal in GOALS.items():
        if k in means:
            value = means[k][figure]
            verdict = "met" if value >= goal else f"MISSED by {goal - value:.3f}"
            print(f"goal mean {figure} at K={k} >= {goal:.2f}: {value:.3f} {verdict}")


def latency(people: People, sizes: tuple[int, ...], repeats: int) -> None:
    """Build and recognition time against vocabulary size, from the person with the most takes."""
    person = max(people, key=lambda p: sum(len(t) for t in people[p].values()))
    signs = people[person]
    order = [(sign, index) for index in range(max(len(t) for t in signs.values())) for sign in sorted(signs)]
    order = [(sign, index) for sign, index in order if index < len(signs[sign])]
    core = sorted(os.sched_getaffinity(0))[0]
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    print(
        f"latency on one core (cpu {core}), vocabularies from {person}; recognition: median, p95 of {repeats}"
    )
    print(f"{'examples':>8} {'signs':>5} {'build s':>8} {'recognize ms':>12} {'p95 ms':>7}")
    try:
        for size in sizes:
            if size >= len(order):
                break
            chosen, queries = order[:size], order[size:]
            examples: dict[str, list[np.ndarray]] = {}
            for sign, index in chosen:
                examples.setdefault(sign, []).append(signs[sign][index])
            began = time.perf_counter()
            recognizer = build(examples)
            built = time.perf_counter() - began
            times = []
            for sign, index in (queries * repeats)[:repeats]:
                began = time.perf_counter()
                recognizer.recognize(signs[sign][index])
                times.append((time.perf_counter() - began) * 1000)
            p95 = float(np.quantile(times, 0.95))
            print(f"{size:>8} {len(examples):>5} {built:>8.2f} {statistics.median(times):>12.1f} {p95:>7.1f}")
    finally:
        os.sched_setaffinity(0, affinity)
    print("goals at 50 examples: recognition <= 100 ms, build <= 2 s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", nargs="?", type=Path, metavar="DIR", help=f"default {SHARED}")
    parser.add_argument("--quick", action="store_true", help="the committed takes, small sizes (smoke run)")
    parser.add_argument("--draws", type=int, help="vocabulary draws per person and K (default 30, quick 3)")
    args = parser.parse_args(argv)
    directory = COMMITTED if args.quick else (args.directory or SHARED)
    if not directory.is_dir():
        print(f"bench.recognition skipped: no gesture set at {directory} (--quick uses {COMMITTED})")
        return
    people = load_people(directory)
    print(f"data: {directory}")
    accuracy_and_rejection(people, (1, 3, 5), args.draws or (3 if args.quick else 30))
    latency(people, (10, 20, 30) if args.quick else (10, 25, 50, 100, 150), 10 if args.quick else 30)


if __name__ == "__main__":
    main()
