"""`a3cp evaluate DIR`: the recognizer's evaluation (`evaluation`) over a folder of people's takes, one
`<person>.npz` per person holding one `(N, T, 1662)` float32 array per sign (the shared test-data format;
tests/data/gestures/ has one). The only module of the package that reads files.

`a3cp evaluate --user U` runs the same over a user's own vocabulary (their active labelled captures, with
`train` consent where consent is enforced), read by the loader the front end passes in (a3cp/cli.py: the
recognition service on LOG_ROOT and DATA_ROOT); K is limited to what every label's examples allow (one
take is left to query with).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from a3cp.domain.errors import DomainError
from a3cp.recognition.errors import InvalidFeatures, InvalidVocabulary
from a3cp.recognition.evaluation import NOT_SURE, Figures, Takes, evaluate, mean
from a3cp.recognition.representation import Array

FIGURES = ("accuracy", "decided_accuracy", "rejection", "known_accuracy")


def load_people(directory: Path) -> dict[str, dict[str, Array]]:
    """person (file stem) -> sign -> `(N, T, 1662)` takes, for each .npz in `directory`."""
    files = sorted(directory.glob("*.npz"))
    if not files:
        raise InvalidFeatures(f"DIR: no .npz files in {directory}", "DIR")
    people = {}
    for path in files:
        with np.load(path, allow_pickle=False) as archive:
            signs = {sign: archive[sign] for sign in archive.files}
        for sign, takes in signs.items():
            if takes.ndim != 3:
                raise InvalidFeatures(f"{path.name}: {sign!r} is {takes.shape}, expected (N, T, 1662)", "DIR")
        people[path.stem] = signs
    return people


UserTakes = Callable[[str], dict[str, list[Array]]]  # user_id -> label -> their takes


def feasible(signs: dict[str, list[Array]], examples: tuple[int, ...]) -> tuple[int, ...]:
    """The Ks every label can be evaluated at (K examples and at least one take left to query)."""
    fewest = min((len(takes) for takes in signs.values()), default=0)
    usable = tuple(k for k in examples if k < fewest)
    if len(signs) < 2 or not usable:
        raise InvalidVocabulary(
            f"examples: the user has {len(signs)} labels with at least {fewest} examples each; evaluating "
            f"needs 2 labels and more examples per label than K (K = {', '.join(map(str, examples))})",
            "examples",
        )
    return usable


def add_evaluate_parser(commands: Any, user_takes: UserTakes) -> None:
    """Register `evaluate` on the `a3cp` command's subparsers; `user_takes` reads a user's vocabulary
    (the front end wires it to the recognition service, which this pure package may not import)."""
    parser = commands.add_parser(
        "evaluate", help="leave-out evaluation of the gesture recognizer on a folder or a user's captures"
    )
    parser.add_argument("directory", type=Path, metavar="DIR", nargs="?", help="one <person>.npz per person")
    parser.add_argument("--user", metavar="U", help="instead of DIR: this user's own curated captures")
    parser.add_argument(
        "--examples",
        type=int,
        action="append",
        metavar="K",
        help="examples per sign (repeatable; default 1 3 5)",
    )
    parser.add_argument("--draws", type=int, default=10, help="random vocabularies per person and K")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run_evaluate, user_takes=user_takes)


def run_evaluate(args: argparse.Namespace) -> int:
    examples = tuple(args.examples or (1, 3, 5))
    if min(examples) < 1 or args.draws < 1:
        print("--examples and --draws must be at least 1")
        return 2
    if (args.directory is None) == (args.user is None):
        print("give either DIR or --user U")
        return 2
    try:
        people: Mapping[str, Mapping[str, Takes]]
        if args.user is not None:
            signs = args.user_takes(args.user)
            examples = feasible(signs, examples)
            people = {args.user: signs}
        else:
            people = load_people(args.directory)
        results = evaluate(people, examples, args.draws, args.seed)
    except DomainError as error:
        print(error.message)
        return 2
    print(json.dumps(_as_json(results, examples), indent=1) if args.json else _as_text(results, examples))
    return 0


def _as_json(results: dict[str, dict[int, Figures]], examples: tuple[int, ...]) -> dict[str, Any]:
    return {
        "people": {person: {str(k): by_k[k].summary() for k in examples} for person, by_k in results.items()},
        "mean": {
            str(k): {figure: round(mean(results, k, figure), 4) for figure in FIGURES} for k in examples
        },
    }


def _as_text(results: dict[str, dict[int, Figures]], examples: tuple[int, ...]) -> str:
    header = f"{'person':<48} {'K':>2} " + " ".join(f"{figure:>16}" for figure in FIGURES)
    lines = [header]
    for person, by_k in results.items():
        for k in examples:
            values = " ".join(f"{getattr(by_k[k], figure):>16.3f}" for figure in FIGURES)
            lines.append(f"{person[:48]:<48} {k:>2} {values}")
    for k in examples:
        values = " ".join(f"{mean(results, k, figure):>16.3f}" for figure in FIGURES)
        lines.append(f"{'mean over people':<48} {k:>2} {values}")
    for person, by_k in results.items():
        lines.append("")
        lines += _confusion(person, by_k[max(examples)])
    return "\n".join(lines)


def _confusion(person: str, figures: Figures) -> list[str]:
    """Rows: true sign; columns: decision (with "not sure"), counts over the draws."""
    signs = sorted({truth for truth, _ in figures.confusion})
    columns = [*signs, NOT_SURE]
    width = max(12, *(len(c) + 1 for c in columns))
    lines = [f"confusion, {person}, K = {figures.examples} (rows: true sign, columns: decision)"]
    lines.append(" " * width + "".join(f"{c:>{width}}" for c in columns))
    for truth in signs:
        lines.append(
            f"{truth:<{width}}" + "".join(f"{figures.confusion[truth, c]:>{width}}" for c in columns)
        )
    return lines
